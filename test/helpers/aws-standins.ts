import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Loopback stand-ins for Secrets Manager (GetSecretValue) and Lambda (Invoke), so that the
 * unchanged AWS SDK v3 clients, Powertools' getSecret included, can be pointed at them with
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_LAMBDA`.
 *
 * Copied from the real services: the wire protocols (AWS JSON 1.1 with `X-Amz-Target` for
 * Secrets Manager; REST-JSON `POST /2015-03-31/functions/{name}/invocations` for Lambda), the
 * success bodies and status codes (202 for `Event`, 204 for `DryRun`), matching a secret or a
 * function by name or by ARN, the error shapes the SDK turns into typed exceptions (`__type` in
 * the JSON 1.1 body; the `x-amzn-errortype` header for REST-JSON), a handler that throws becoming
 * 200 with `X-Amz-Function-Error: Unhandled`, and the need for a SigV4 `Authorization` header.
 *
 * Not copied: the signature is parsed, not verified (any secret key passes); no partial ARNs,
 * versions, stages, qualifiers or aliases; no SecretBinary; no throttling, payload limits or
 * retries; `Event` invocations run once, after the 202, and their errors are dropped.
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
  /** Adds the secret, or replaces its value (with a new VersionId, as a real PutSecretValue). */
  setSecret(idOrArn: { arn: string; name: string }, value: string): void;
  close(): Promise<void>;
}

export interface LambdaInvocation {
  functionName: string;
  invocationType: string;
  payload: string;
  accessKeyId: string;
  region: string;
  /** The SigV4 scope's service; `lambda` from a correctly configured client. */
  service: string;
  /** `Date.now()` when the request arrived. */
  at: number;
}

export interface LambdaStandIn {
  endpoint: string;
  invocations: LambdaInvocation[];
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
  return { endpoint: server.endpoint, requests, setSecret, close: server.close };
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** REST-JSON errors: the SDK takes the exception name from x-amzn-errortype first. */
function lambdaError(res: ServerResponse, status: number, type: string, message: string): void {
  const headers = { "content-type": "application/json", "x-amzn-errortype": type };
  send(res, status, headers, JSON.stringify({ Type: "User", message }));
}

export async function startLambda(opts: {
  functions: { name: string; arn: string }[];
  onInvoke?: (inv: LambdaInvocation) => unknown | Promise<unknown>;
}): Promise<LambdaStandIn> {
  const invocations: LambdaInvocation[] = [];
  const run = async (inv: LambdaInvocation): Promise<unknown> =>
    (await opts.onInvoke?.(inv)) ?? null;

  const server = await listen(async (req, res) => {
    const at = Date.now();
    const payload = (await readBody(req)).toString("utf8");
    const who = signer(req);
    if (!who) return lambdaError(res, 403, "AccessDeniedException", "Missing SigV4 signature.");
    const path = INVOKE_PATH.exec(new URL(req.url ?? "/", "http://x").pathname);
    if (req.method !== "POST" || !path?.[1]) {
      return lambdaError(res, 404, "UnknownOperationException", "Unknown operation.");
    }
    // The SDK percent-encodes the whole path segment, so an ARN arrives with %3A for ':'.
    const requested = decodeURIComponent(path[1]);
    const fn = opts.functions.find((f) => f.name === requested || f.arn === requested);
    if (!fn)
      return lambdaError(res, 404, "ResourceNotFoundException", `Function not found: ${requested}`);

    const header = req.headers["x-amz-invocation-type"];
    const invocationType = typeof header === "string" ? header : "RequestResponse";
    const inv: LambdaInvocation = { functionName: fn.name, invocationType, payload, at, ...who };
    invocations.push(inv);
    if (invocationType === "DryRun") return send(res, 204, {});
    if (invocationType === "Event") {
      send(res, 202, {});
      // Asynchronous invocations run after Lambda has answered; their failures never reach the caller.
      return void run(inv).catch(() => undefined);
    }
    if (invocationType !== "RequestResponse") {
      return lambdaError(res, 400, "InvalidParameterValueException", "Bad X-Amz-Invocation-Type.");
    }
    const headers = { "content-type": "application/json", "X-Amz-Executed-Version": "$LATEST" };
    let result: unknown;
    try {
      result = await run(inv);
    } catch (error) {
      // A function that throws is still a 200; the SDK surfaces it as `FunctionError`.
      const errorBody = {
        errorType: error instanceof Error ? error.name : "Error",
        errorMessage: error instanceof Error ? error.message : String(error),
      };
      const failed = { ...headers, "X-Amz-Function-Error": "Unhandled" };
      return send(res, 200, failed, JSON.stringify(errorBody));
    }
    send(res, 200, headers, JSON.stringify(result));
  });
  return { endpoint: server.endpoint, invocations, close: server.close };
}
