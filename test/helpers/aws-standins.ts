import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Loopback stand-ins for Secrets Manager (GetSecretValue) and Step Functions (StartExecution),
 * so that the unchanged AWS SDK v3 clients, Powertools' getSecret included, can be pointed at
 * them with `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_SFN`.
 *
 * Copied from the real services: the wire protocols (AWS JSON 1.1 with `X-Amz-Target:
 * secretsmanager.GetSecretValue`; AWS JSON 1.0 with `X-Amz-Target:
 * AWSStepFunctions.StartExecution`), the success bodies, matching a secret by name or by ARN,
 * the error shapes the SDK turns into typed exceptions (`__type` in the body), a standard
 * workflow's naming rules (1–80 characters, no whitespace, brackets, wildcards or `:`/`/`…;
 * a generated UUID without a name), its idempotency (the same name and input while the
 * execution runs answers that execution; after it has ended, or with other input,
 * ExecutionAlreadyExists), and the need for a SigV4 `Authorization` header.
 *
 * Not copied: the signature is parsed, not verified (any secret key passes); no SecretBinary;
 * no throttling or payload limits; an execution runs nothing by itself (`onStart` is told, and
 * the test runs it), and ends only when the test says so (`finish`).
 */

/** Who signed a request, from the SigV4 credential scope. */
interface Signer {
  accessKeyId: string;
  region: string;
  service: string;
}

export interface SecretsManagerStandIn {
  endpoint: string;
  requests: { secretId: string; accessKeyId: string; region: string; service: string }[];
  /** The ARN of the secret a SecretId (a name or an ARN) names now, if there is one. */
  arnOf(secretId: string): string | undefined;
  /** Adds the secret, or replaces its value (with a new VersionId, as a real PutSecretValue). */
  setSecret(idOrArn: { arn: string; name: string }, value: string): void;
  close(): Promise<void>;
}

export interface StartedExecution {
  stateMachineArn: string;
  executionArn: string;
  name: string;
  /** The input exactly as StartExecution sent it (a JSON string). */
  input: string;
  startDate: number;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";
  accessKeyId: string;
  region: string;
  /** The SigV4 scope's service; `states` from a correctly configured client. */
  service: string;
}

export interface StepFunctionsStandIn {
  endpoint: string;
  /** Every execution started, in order. */
  executions: StartedExecution[];
  /** Every signed StartExecution request, refused ones included, in order. */
  requests: { stateMachineArn: string; name: string | undefined; accessKeyId: string }[];
  /** Ends an execution (it then no longer answers a repeated StartExecution as itself). */
  finish(executionArn: string, status: Exclude<StartedExecution["status"], "RUNNING">): void;
  close(): Promise<void>;
}

const CREDENTIAL = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request,/;

function signer(req: IncomingMessage): Signer | undefined {
  const match = CREDENTIAL.exec(req.headers.authorization ?? "");
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { accessKeyId: match[1], region: match[2], service: match[3] };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body = ""): void {
  // The SDK copies x-amzn-RequestId into `$metadata.requestId`; real services always send one.
  res.writeHead(status, { "x-amzn-RequestId": randomUUID(), ...headers });
  res.end(body);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

async function listen(handler: Handler): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { "content-type": "text/plain" }, String(error));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps sockets alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

const JSON_11 = { "content-type": "application/x-amz-json-1.1" };

function jsonError(res: ServerResponse, status: number, type: string, message?: string): void {
  send(res, status, JSON_11, JSON.stringify({ __type: type, ...(message ? { message } : {}) }));
}

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
  created: number;
}

export async function startSecretsManager(
  secrets: { arn: string; name: string; value: string }[],
): Promise<SecretsManagerStandIn> {
  const stored: StoredSecret[] = [];
  const requests: SecretsManagerStandIn["requests"] = [];
  const setSecret: SecretsManagerStandIn["setSecret"] = ({ arn, name }, value) => {
    const old = stored.findIndex((s) => s.arn === arn || s.name === name);
    const secret = { arn, name, value, versionId: randomUUID(), created: Date.now() / 1000 };
    if (old >= 0) stored.splice(old, 1, secret);
    else stored.push(secret);
  };
  for (const { value, ...id } of secrets) setSecret(id, value);

  const server = await listen(async (req, res) => {
    const body = await readBody(req);
    const who = signer(req);
    if (!who) return jsonError(res, 403, "MissingAuthenticationTokenException");
    const target = req.headers["x-amz-target"];
    if (req.method !== "POST" || target !== "secretsmanager.GetSecretValue") {
      return jsonError(res, 400, "UnknownOperationException");
    }
    let secretId: unknown;
    try {
      secretId = (JSON.parse(body.toString("utf8")) as { SecretId?: unknown }).SecretId;
    } catch {
      return jsonError(res, 400, "SerializationException");
    }
    if (typeof secretId !== "string") {
      return jsonError(res, 400, "InvalidParameterException", "SecretId is required.");
    }
    requests.push({ secretId, ...who });
    const secret = stored.find((s) => s.arn === secretId || s.name === secretId);
    if (!secret) {
      const message = "Secrets Manager can't find the specified secret.";
      return jsonError(res, 400, "ResourceNotFoundException", message);
    }
    const answer = {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      SecretString: secret.value,
      VersionStages: ["AWSCURRENT"],
      // JSON 1.1 timestamps are epoch seconds, as a number.
      CreatedDate: secret.created,
    };
    send(res, 200, JSON_11, JSON.stringify(answer));
  });
  const arnOf = (secretId: string) =>
    stored.find((s) => s.arn === secretId || s.name === secretId)?.arn;
  return { endpoint: server.endpoint, requests, arnOf, setSecret, close: server.close };
}

const JSON_10 = { "content-type": "application/x-amz-json-1.0" };

/** AWS JSON 1.0 errors: the SDK takes the exception name from `__type` (after any `#`). */
function json10Error(res: ServerResponse, type: string, message: string, status = 400): void {
  send(res, status, JSON_10, JSON.stringify({ __type: `com.amazonaws.states#${type}`, message }));
}

/** Step Functions' rule for execution names: 1–80 characters, none of these (nor controls). */
const BAD_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]|\p{Cc}/u;

export async function startStepFunctions(opts: {
  stateMachines: string[];
  onStart?: (execution: StartedExecution) => void;
}): Promise<StepFunctionsStandIn> {
  const executions: StartedExecution[] = [];
  const requests: StepFunctionsStandIn["requests"] = [];
  const server = await listen(async (req, res) => {
    const body = (await readBody(req)).toString("utf8");
    const who = signer(req);
    if (!who) return json10Error(res, "MissingAuthenticationTokenException", "Missing SigV4.", 403);
    if (
      req.method !== "POST" ||
      req.headers["x-amz-target"] !== "AWSStepFunctions.StartExecution"
    ) {
      return json10Error(res, "UnknownOperationException", "Unknown operation.");
    }
    let request: { stateMachineArn?: unknown; name?: unknown; input?: unknown };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return json10Error(res, "SerializationException", "The request body is not JSON.");
    }
    const { stateMachineArn } = request;
    requests.push({
      stateMachineArn: String(stateMachineArn),
      name: typeof request.name === "string" ? request.name : undefined,
      accessKeyId: who.accessKeyId,
    });
    if (typeof stateMachineArn !== "string" || !opts.stateMachines.includes(stateMachineArn)) {
      return json10Error(
        res,
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${String(stateMachineArn)}'`,
      );
    }
    const name = typeof request.name === "string" ? request.name : randomUUID();
    if (name.length === 0 || name.length > 80 || BAD_NAME.test(name)) {
      return json10Error(res, "InvalidName", `Invalid Name: '${name}'`);
    }
    const input = typeof request.input === "string" ? request.input : "{}";
    try {
      JSON.parse(input);
    } catch {
      return json10Error(res, "InvalidExecutionInput", "Invalid State Machine Execution Input");
    }
    const machineName = stateMachineArn.slice(stateMachineArn.lastIndexOf(":") + 1);
    const executionArn = `${stateMachineArn.slice(0, stateMachineArn.lastIndexOf(":stateMachine:"))}:execution:${machineName}:${name}`;
    const same = executions.find((e) => e.executionArn === executionArn);
    if (same !== undefined) {
      // A standard workflow's StartExecution is idempotent only for a running execution with
      // the same input; anything else under a name already used is refused.
      if (same.status !== "RUNNING" || same.input !== input) {
        return json10Error(
          res,
          "ExecutionAlreadyExists",
          `Execution Already Exists: '${executionArn}'`,
        );
      }
      return send(res, 200, JSON_10, JSON.stringify({ executionArn, startDate: same.startDate }));
    }
    const execution: StartedExecution = {
      stateMachineArn,
      executionArn,
      name,
      input,
      // JSON 1.0 timestamps are epoch seconds, as a number.
      startDate: Date.now() / 1000,
      status: "RUNNING",
      ...who,
    };
    executions.push(execution);
    send(res, 200, JSON_10, JSON.stringify({ executionArn, startDate: execution.startDate }));
    opts.onStart?.(execution);
  });
  return {
    endpoint: server.endpoint,
    executions,
    requests,
    finish(executionArn, status) {
      const execution = executions.find((e) => e.executionArn === executionArn);
      if (execution === undefined) throw new Error(`no execution ${executionArn}`);
      execution.status = status;
    },
    close: server.close,
  };
}
