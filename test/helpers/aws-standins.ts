import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Loopback stand-ins for Secrets Manager (GetSecretValue), Step Functions (StartExecution) and
 * SNS (Publish), so that the unchanged AWS SDK v3 clients, Powertools' getSecret included, can be
 * pointed at them with `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_SFN` /
 * `AWS_ENDPOINT_URL_SNS`.
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
 * SNS speaks the AWS Query protocol: a form-encoded POST `/` (`Action=Publish&Version=2010-03-31
 * &TopicArn=…&Message=…&Subject=…`), answered in XML (`PublishResponse/PublishResult/MessageId`),
 * errors as `ErrorResponse/Error/{Type,Code,Message}` + `RequestId`, the shape the Query services'
 * references show and `AwsQueryProtocol` in `@aws-sdk/core` reads: it maps `Error/Code` to the
 * model's `awsQueryError` codes (NotFound 404 → NotFoundException, InvalidParameter 400 →
 * InvalidParameterException). Publish's rules, from the API reference (API_Publish.html) and the
 * SDK's model: a message is UTF-8 of at most 262,144 bytes ("not 262,144 characters") and not
 * empty (SNS's own rules as the AMP user guide lists them: "Message should not be empty"); a
 * subject is "ASCII text that begins with a letter, number, or punctuation mark; must not include
 * line breaks or control characters; and must be less than 100 characters long" (the model's
 * text in older SDKs; client-sns 3.1169.0 says "UTF-8 text", but the AMP guide's list still
 * refuses non-printable ASCII and cuts at 100, so we keep the stricter reading: 1–100 printable
 * ASCII characters, not starting with a space); a topic must be in the Region the request is
 * signed for ("You can publish messages only to topics … in the same Region"; the code we answer,
 * InvalidParameter "TopicArn", is our guess); an unknown topic is NotFound "Topic does not exist";
 * other actions are InvalidAction (400) and an unsigned request MissingAuthenticationToken (403),
 * with the AWS references' "Common Errors" texts; a scope for another service is
 * SignatureDoesNotMatch (403).
 *
 * Not copied: the signature is parsed, not verified (any secret key passes); no SecretBinary;
 * no throttling, nor payload limits beyond SNS's message size; an execution runs nothing by
 * itself (`onStart` is told, and the test runs it), and ends only when the test says so
 * (`finish`). SNS: only Publish to a topic (no TargetArn, PhoneNumber, MessageStructure=json,
 * FIFO fields, GET requests); message attributes are accepted and ignored (not counted in the
 * 256 KB); the Subject and Message are not checked for XML-invalid characters; nothing is
 * delivered, and a MessageId is a fresh UUID.
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

export interface PublishedMessage {
  topicArn: string;
  subject: string | undefined;
  message: string;
  messageId: string;
  accessKeyId: string;
  region: string;
  /** The SigV4 scope's service; always `sns` (other scopes are refused). */
  service: string;
}

export interface SnsStandIn {
  endpoint: string;
  topics: string[];
  /** Every accepted Publish, in order. */
  published: PublishedMessage[];
  /** Every signed request, refused ones included, in order. */
  requests: { action: string; topicArn: string | undefined; accessKeyId: string }[];
  close(): Promise<void>;
}

const SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";
const TEXT_XML = { "content-type": "text/xml" };

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Answers XML with the same request id in the header (read by the SDK) and the body. */
function sendXml(res: ServerResponse, status: number, xml: (requestId: string) => string): void {
  const requestId = randomUUID();
  send(res, status, { ...TEXT_XML, "x-amzn-RequestId": requestId }, xml(requestId));
}

interface QueryError {
  status: number;
  code: string;
  message: string;
}

/** AWS Query errors: the SDK takes the exception from `Error/Code`. */
function queryError(res: ServerResponse, { status, code, message }: QueryError): void {
  const type = status >= 500 ? "Receiver" : "Sender";
  sendXml(
    res,
    status,
    (requestId) =>
      `<ErrorResponse xmlns="${SNS_XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code>` +
      `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

const invalid = (what: string): QueryError => ({
  status: 400,
  code: "InvalidParameter",
  message: `Invalid parameter: ${what}`,
});

const MAX_MESSAGE_BYTES = 262_144;
/** 1–100 printable ASCII characters, the first not a space. */
const SUBJECT = /^[\x21-\x7e][\x20-\x7e]{0,99}$/;
const TOPIC_ARN = /^arn:aws[\w-]*:sns:([a-z0-9-]+):\d{12}:[\w-]{1,256}(\.fifo)?$/;

type Publish = Pick<PublishedMessage, "topicArn" | "subject" | "message">;

/** Publish's parameters under its rules: what to publish, or the refusal. */
function parsePublish(
  params: URLSearchParams,
  topics: string[],
  region: string,
): QueryError | Publish {
  const topicArn = params.get("TopicArn");
  const arnRegion = TOPIC_ARN.exec(topicArn ?? "")?.[1];
  if (topicArn === null || arnRegion !== region) return invalid("TopicArn");
  const message = params.get("Message") ?? "";
  if (message.length === 0) return invalid("Empty message");
  if (Buffer.byteLength(message, "utf8") > MAX_MESSAGE_BYTES) return invalid("Message too long");
  const subject = params.get("Subject") ?? undefined;
  if (subject !== undefined && !SUBJECT.test(subject)) return invalid("Subject");
  if (!topics.includes(topicArn)) {
    return { status: 404, code: "NotFound", message: "Topic does not exist" };
  }
  return { topicArn, subject, message };
}

export async function startSns(opts: { topics: string[] }): Promise<SnsStandIn> {
  const published: PublishedMessage[] = [];
  const requests: SnsStandIn["requests"] = [];
  const server = await listen(async (req, res) => {
    const params = new URLSearchParams((await readBody(req)).toString("utf8"));
    const who = signer(req);
    if (!who) {
      const message =
        "The request must contain either a valid (registered) AWS access key ID or X.509 certificate.";
      return queryError(res, { status: 403, code: "MissingAuthenticationToken", message });
    }
    const action = params.get("Action") ?? "";
    const topicArn = params.get("TopicArn") ?? undefined;
    requests.push({ action, topicArn, accessKeyId: who.accessKeyId });
    if (who.service !== "sns") {
      const message = "Credential should be scoped to correct service: 'sns'.";
      return queryError(res, { status: 403, code: "SignatureDoesNotMatch", message });
    }
    if (req.method !== "POST" || action !== "Publish") {
      // Both texts (here and MissingAuthenticationToken's) are the AWS APIs' "Common Errors".
      const message =
        "The action or operation requested is invalid. Verify that the action is typed correctly.";
      return queryError(res, { status: 400, code: "InvalidAction", message });
    }
    const parsed = parsePublish(params, opts.topics, who.region);
    if ("code" in parsed) return queryError(res, parsed);
    const messageId = randomUUID();
    published.push({ ...parsed, messageId, ...who });
    sendXml(
      res,
      200,
      (requestId) =>
        `<PublishResponse xmlns="${SNS_XMLNS}"><PublishResult><MessageId>${messageId}</MessageId>` +
        `</PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  });
  return {
    endpoint: server.endpoint,
    topics: opts.topics,
    published,
    requests,
    close: server.close,
  };
}
