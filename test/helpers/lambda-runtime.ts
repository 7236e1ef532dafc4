import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { lambdaNode } from "./node22.js";

/**
 * Runs one packaged function in a node process of its own, like a Lambda execution
 * environment: its environment is exactly `env` (the template's variables plus Lambda's own,
 * see `lambdaVariables`), nothing inherited from the test process, and the handler is the
 * bundle's, unchanged. Its standard output and error (where Lambda's logs go) are kept. The
 * node is Node 22, the runtime's major version (node22.ts; required under CI).
 */

const CHILD = fileURLToPath(new URL("./lambda-child.mjs", import.meta.url));

export interface InvokeResult {
  readonly ok: boolean;
  /** What the handler returned (ok), or null. */
  readonly result: unknown;
  /** What it threw (not ok). */
  readonly errorType?: string;
  readonly errorMessage?: string;
}

export interface LambdaProcess {
  readonly name: string;
  /** `process.version` of the node running it. */
  readonly nodeVersion: string;
  invoke(event: unknown, timeoutMs?: number): Promise<InvokeResult>;
  /** Everything the function wrote to stdout and stderr so far. */
  logs(): string;
  close(): Promise<void>;
}

/** The variables the Lambda Node.js runtime sets for every function. */
export function lambdaVariables(opts: {
  functionName: string;
  handler: string;
  taskRoot: string;
  region: string;
  memoryMb: number;
}): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: opts.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(opts.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${opts.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: "2026/12/01/[$LATEST]0123456789abcdef",
    AWS_REGION: opts.region,
    AWS_DEFAULT_REGION: opts.region,
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    LAMBDA_TASK_ROOT: opts.taskRoot,
    LAMBDA_RUNTIME_DIR: "/var/runtime",
    _HANDLER: opts.handler,
    TZ: "UTC",
    LANG: "en_US.UTF-8",
    // Lambda's PATH; node itself is found through process.execPath.
    PATH: "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
  };
}

export async function startLambdaProcess(
  name: string,
  env: Record<string, string>,
): Promise<LambdaProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    execPath: lambdaNode(),
    env,
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const pending = new Map<number, (result: InvokeResult) => void>();
  let exited: Error | undefined;
  let nodeVersion = "";
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
    child.on(
      "message",
      (message: { ready?: boolean; version?: string; id?: number } & InvokeResult) => {
        if (message.ready) {
          nodeVersion = message.version ?? "";
          resolve();
          return;
        }
        const done = message.id === undefined ? undefined : pending.get(message.id);
        if (message.id !== undefined) pending.delete(message.id);
        done?.(message);
      },
    );
  });
  child.removeAllListeners("exit");
  child.on("exit", (code) => {
    exited = new Error(`${name} exited with ${code}`);
  });
  let next = 0;
  return {
    name,
    nodeVersion,
    invoke(event, timeoutMs = 60_000) {
      if (exited !== undefined) return Promise.reject(exited);
      const id = next++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, event, timeoutMs });
      });
    },
    logs: () => output,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || exited !== undefined) {
          resolve();
          return;
        }
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
