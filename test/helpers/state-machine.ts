import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import type { InvokeResult } from "./lambda-runtime.js";
import { requireNode22 } from "./node22.js";

/**
 * A Step Functions state machine run on this machine: its definition validated with
 * asl-validator and executed with aws-local-stepfunctions, each Task answered by the caller
 * (in the deployed-shape tests: by the packaged functions, lambda-runtime.ts). The library needs
 * Node 22, so the execution runs in a Node 22 process of its own (state-machine-child.mjs)
 * that forwards each Task's call here over IPC.
 */

const CHILD = fileURLToPath(new URL("./state-machine-child.mjs", import.meta.url));

// asl-validator is CommonJS without types; it runs on Node 20 in this process.
const aslValidator: unknown = createRequire(import.meta.url)("asl-validator");
const validatorResult = z.object({
  isValid: z.boolean(),
  errors: z.array(z.looseObject({ "Error code": z.string(), Message: z.string() })),
});

/** Validates a definition as asl-validator does (schema, transitions, paths, ARNs). */
export function validateDefinition(definition: unknown): { valid: boolean; errors: string[] } {
  if (typeof aslValidator !== "function") throw new Error("asl-validator exports no function");
  // It writes a default QueryLanguage into each state: give it a copy.
  const result = validatorResult.parse(aslValidator(structuredClone(definition)));
  return {
    valid: result.isValid,
    errors: result.errors.map((error) => `${error["Error code"]}: ${error.Message}`),
  };
}

/** Answers one Task: the function (its Resource ARN, or lambda:invoke's FunctionName) and payload. */
export type ResolveTask = (resource: string, input: unknown, state: string) => Promise<unknown>;

export interface RunOptions {
  readonly resolveTask: ResolveTask;
  /** `$$.Execution.Name`; a random UUID by default, as StartExecution gives. */
  readonly executionName?: string;
  readonly stateMachineName?: string;
  readonly region?: string;
  /**
   * The pause before each retry, in ms, instead of IntervalSeconds × BackoffRate^n (0 by
   * default; null keeps the definition's). What the definition would wait is in `retries`.
   */
  readonly retryIntervalMs?: number | null;
  /** Each Wait state's pause in ms (0 by default; null keeps the definition's). */
  readonly waitMs?: number | null;
  /** The whole run, the child's start included, fails after this long (60 s by default). */
  readonly timeoutMs?: number;
  /** The library's own check of the definition before it runs (both on by default). */
  readonly validation?: { readonly checkPaths?: boolean; readonly checkArn?: boolean };
}

const stateData = z.looseObject({
  name: z.string(),
  type: z.string(),
  input: z.unknown(),
  output: z.unknown().optional(),
});
/** One entry of the execution's log (the library's event log, close to GetExecutionHistory). */
const executionEvent = z.looseObject({
  type: z.string(),
  timestamp: z.number(),
  state: stateData.optional(),
  parentState: stateData.optional(),
  /** The Map iteration a state event belongs to. */
  index: z.number().optional(),
  Error: z.string().optional(),
  Cause: z.unknown().optional(),
  retry: z.looseObject({ retrier: z.looseObject({}), attempt: z.number() }).optional(),
  catch: z.looseObject({ catcher: z.looseObject({}) }).optional(),
});
export type ExecutionEvent = z.infer<typeof executionEvent>;

export interface TaskCall {
  readonly state: string;
  /** What resolveTask was given: the function and its payload. */
  readonly resource: string;
  readonly input: unknown;
  readonly error?: string;
}

export interface RetryRecord {
  readonly state: string;
  readonly index: number | undefined;
  readonly attempt: number;
  readonly errorEquals: readonly string[];
  /** What Step Functions would wait before this retry (without jitter), in seconds. */
  readonly definitionDelaySeconds: number;
}

export interface StateMachineRun {
  readonly status: "SUCCEEDED" | "FAILED" | "TIMED_OUT";
  readonly output?: unknown;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
  readonly events: readonly ExecutionEvent[];
  /** Each Task call in the order they were made, retries included. */
  readonly taskCalls: readonly TaskCall[];
  readonly retries: readonly RetryRecord[];
  /** `process.version` of the process that ran the execution. */
  readonly nodeVersion: string;
  /**
   * In ms: from fork to the child's first message (Node 22 and the library loaded), the
   * library's own check of the definition, the execution, and the whole call.
   */
  readonly timings: {
    readonly startMs: number;
    readonly validateMs: number;
    readonly runMs: number;
    readonly totalMs: number;
  };
}

/** The library refused the definition (the message is its own). */
export class StateMachineDefinitionError extends Error {
  override readonly name = "StateMachineDefinitionError";
}

/** A Lambda function's failure as a Task sees it: Error is the errorType. */
export class LambdaFunctionError extends Error {
  constructor(errorType: string, message: string) {
    super(message);
    this.name = errorType;
  }
}

interface Shape {
  tasks: Map<string, string>;
  retries: Map<string, ReadonlyArray<Record<string, unknown>>>;
  waits: string[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The states the child must override, by name, in the machine and in every Map's item
 * processor and Parallel branch (the library's overrides are keyed by state name only).
 */
function shapeOf(
  machine: unknown,
  shape: Shape = { tasks: new Map(), retries: new Map(), waits: [] },
) {
  if (!isRecord(machine) || !isRecord(machine.States)) return shape;
  for (const [name, state] of Object.entries(machine.States)) {
    if (!isRecord(state)) continue;
    if (state.Type === "Task" && typeof state.Resource === "string") {
      const known = shape.tasks.get(name);
      if (known !== undefined && known !== state.Resource) {
        throw new Error(`two Task states named ${name} call different resources`);
      }
      shape.tasks.set(name, state.Resource);
    }
    if (Array.isArray(state.Retry)) shape.retries.set(name, state.Retry.filter(isRecord));
    if (state.Type === "Wait") shape.waits.push(name);
    shapeOf(state.ItemProcessor ?? state.Iterator, shape);
    if (Array.isArray(state.Branches)) for (const branch of state.Branches) shapeOf(branch, shape);
  }
  return shape;
}

const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:::lambda:invoke$/;
const lambdaInvokeParameters = z.object({ FunctionName: z.string(), Payload: z.unknown() });

/**
 * One Task call: a Lambda function's ARN is called with the state's input; the
 * `arn:aws:states:::lambda:invoke` integration with its Payload, its answer wrapped as
 * Step Functions wraps it.
 */
async function callTask(resource: string, input: unknown, state: string, resolve: ResolveTask) {
  if (!LAMBDA_INVOKE.test(resource)) return resolve(resource, input, state);
  const parameters = lambdaInvokeParameters.parse(input);
  const payload = await resolve(parameters.FunctionName, parameters.Payload ?? null, state);
  return { ExecutedVersion: "$LATEST", Payload: payload, StatusCode: 200 };
}

/** What Step Functions would wait before a retry: IntervalSeconds × BackoffRate^(attempt−1). */
function definitionDelay(retrier: Record<string, unknown>, attempt: number): number {
  const interval = typeof retrier.IntervalSeconds === "number" ? retrier.IntervalSeconds : 1;
  const rate = typeof retrier.BackoffRate === "number" ? retrier.BackoffRate : 2;
  const max = typeof retrier.MaxDelaySeconds === "number" ? retrier.MaxDelaySeconds : Infinity;
  return Math.min(interval * rate ** (attempt - 1), max);
}

function retryRecords(events: readonly ExecutionEvent[]): RetryRecord[] {
  return events.flatMap((event) => {
    if (event.type !== "StateRetried" || event.state === undefined || event.retry === undefined) {
      return [];
    }
    const retrier = event.retry.retrier;
    const errorEquals = z.array(z.string()).catch([]).parse(retrier.ErrorEquals);
    return [
      {
        state: event.state.name,
        index: event.index,
        attempt: event.retry.attempt,
        errorEquals,
        definitionDelaySeconds: definitionDelay(retrier, event.retry.attempt),
      },
    ];
  });
}

const childMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), version: z.string() }),
  z.object({ type: z.literal("task"), id: z.number(), state: z.string(), input: z.unknown() }),
  z.object({ type: z.literal("event"), event: executionEvent }),
  z.object({ type: z.literal("invalid"), message: z.string() }),
  z.object({
    type: z.literal("done"),
    status: z.enum(["SUCCEEDED", "FAILED", "TIMED_OUT"]),
    output: z.unknown().optional(),
    error: z.string().optional(),
    cause: z.string().optional(),
    validateMs: z.number(),
    runMs: z.number(),
  }),
]);

/**
 * A Task's failure as the child hands it to the state machine: Error is the thrown error's
 * name, Cause the Lambda runtime's error document, as Step Functions reports a function's error.
 */
function failureOf(error: unknown): { error: string; cause: string } {
  const errorType = error instanceof Error ? error.name : "Error";
  const errorMessage = error instanceof Error ? error.message : String(error);
  return { error: errorType, cause: JSON.stringify({ errorType, errorMessage }) };
}

function contextOf(input: unknown, options: RunOptions) {
  const region = options.region ?? "eu-central-1";
  const machine = options.stateMachineName ?? "StateMachine";
  const name = options.executionName ?? randomUUID();
  const arn = `arn:aws:states:${region}:123456789012`;
  return {
    Execution: {
      Id: `${arn}:execution:${machine}:${name}`,
      Name: name,
      Input: input,
      RoleArn: "arn:aws:iam::123456789012:role/StateMachineRole",
    },
    StateMachine: { Id: `${arn}:stateMachine:${machine}`, Name: machine },
  };
}

/**
 * Executes `definition` with `input` in a Node 22 child and resolves with how it ended. A
 * definition the library refuses rejects with StateMachineDefinitionError.
 */
export async function runStateMachine(
  definition: unknown,
  input: unknown,
  options: RunOptions,
): Promise<StateMachineRun> {
  const shape = shapeOf(definition);
  const started = performance.now();
  const child = fork(CHILD, [], {
    execPath: requireNode22(),
    execArgv: [],
    stdio: ["ignore", "inherit", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const events: ExecutionEvent[] = [];
  const taskCalls: TaskCall[] = [];
  let nodeVersion = "";
  let startMs = 0;
  const answerTask = async (id: number, state: string, taskInput: unknown) => {
    const resource = shape.tasks.get(state) ?? "";
    const call: TaskCall = { state, resource, input: taskInput };
    const at = taskCalls.push(call) - 1;
    try {
      const output = await callTask(resource, taskInput, state, options.resolveTask);
      child.send({ type: "taskResult", id, ok: true, output: output ?? null });
    } catch (error) {
      const failure = failureOf(error);
      taskCalls[at] = { ...call, error: failure.error };
      child.send({ type: "taskResult", id, ok: false, ...failure });
    }
  };
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    return await new Promise<StateMachineRun>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the state machine did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.once("error", reject);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the state machine's process exited with ${code}: ${stderr}`));
      });
      child.on("message", (raw: unknown) => {
        const message = childMessage.parse(raw);
        switch (message.type) {
          case "ready":
            nodeVersion = message.version;
            startMs = performance.now() - started;
            child.send({
              type: "run",
              definition,
              input,
              context: contextOf(input, options),
              taskStates: [...shape.tasks.keys()],
              retryStates: [...shape.retries.keys()],
              retryIntervalMs: options.retryIntervalMs === undefined ? 0 : options.retryIntervalMs,
              waitStates: shape.waits,
              waitMs: options.waitMs === undefined ? 0 : options.waitMs,
              validation: options.validation ?? {},
            });
            return;
          case "task":
            void answerTask(message.id, message.state, message.input);
            return;
          case "event":
            events.push(message.event);
            return;
          case "invalid":
            clearTimeout(timer);
            reject(new StateMachineDefinitionError(message.message));
            return;
          case "done": {
            clearTimeout(timer);
            const { type: _, validateMs, runMs, ...outcome } = message;
            resolve({
              ...outcome,
              events,
              taskCalls,
              retries: retryRecords(events),
              nodeVersion,
              timings: { startMs, validateMs, runMs, totalMs: performance.now() - started },
            });
          }
        }
      });
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** The states entered, in order (Map iterations interleave as they ran). */
export function statesEntered(run: StateMachineRun): string[] {
  return run.events.flatMap((event) =>
    event.type === "StateEntered" && event.state !== undefined ? [event.state.name] : [],
  );
}

/**
 * A resolveTask over packaged functions (lambda-runtime.ts) by resource: a function's failure
 * reaches the state machine with its errorType as the Error, as Step Functions sees it.
 */
export function lambdaTasks(
  functions: Readonly<Record<string, { invoke(event: unknown): Promise<InvokeResult> }>>,
): ResolveTask {
  return async (resource, input) => {
    const target = functions[resource];
    if (target === undefined) throw new Error(`no function stands behind ${resource}`);
    const result = await target.invoke(input);
    if (result.ok) return result.result;
    throw new LambdaFunctionError(result.errorType ?? "Error", result.errorMessage ?? "");
  };
}
