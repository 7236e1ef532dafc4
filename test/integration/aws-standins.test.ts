import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import {
  InvalidParameterException,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
} from "@aws-sdk/client-sns";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type SecretsManagerStandIn,
  type SnsStandIn,
  type StartedExecution,
  type StepFunctionsStandIn,
  startSecretsManager,
  startSns,
  startStepFunctions,
} from "../helpers/aws-standins.js";

const REGION = "eu-west-3";
const ACCESS_KEY_ID = "AKIASTANDINTEST00001";

const SECRET = {
  arn: "arn:aws:secretsmanager:eu-west-3:123456789012:secret:usage-report/api-key-AbCdEf",
  name: "usage-report/api-key",
  value: '{"apiKey":"s3cr3t-Größe"}',
};

const MACHINE = "arn:aws:states:eu-west-3:123456789012:stateMachine:usage-report-ci-run";

/** Points the SDK's default provider chains at a stand-in, as a deployed function's env would. */
function stubAwsEnv(endpointVariable: string, endpoint: string): void {
  vi.stubEnv(endpointVariable, endpoint);
  vi.stubEnv("AWS_REGION", REGION);
  vi.stubEnv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret-key");
  vi.stubEnv("AWS_SESSION_TOKEN", "not-a-real-session-token");
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("Secrets Manager stand-in", () => {
  let standIn: SecretsManagerStandIn;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    standIn = await startSecretsManager([SECRET]);
  });
  afterAll(() => standIn.close());
  beforeEach(() => {
    stubAwsEnv("AWS_ENDPOINT_URL_SECRETS_MANAGER", standIn.endpoint);
    client = new SecretsManagerClient({});
  });
  afterEach(() => client.destroy());

  it("returns the secret string when asked by ARN", async () => {
    const got = await client.send(new GetSecretValueCommand({ SecretId: SECRET.arn }));
    expect(got).toMatchObject({
      ARN: SECRET.arn,
      Name: SECRET.name,
      SecretString: SECRET.value,
      VersionStages: ["AWSCURRENT"],
    });
    expect(got.CreatedDate).toBeInstanceOf(Date);
  });

  it("returns the same secret when asked by name", async () => {
    const got = await client.send(new GetSecretValueCommand({ SecretId: SECRET.name }));
    expect(got.ARN).toBe(SECRET.arn);
    expect(got.SecretString).toBe(SECRET.value);
  });

  it("makes the SDK throw ResourceNotFoundException for a secret it does not hold", async () => {
    const missing = client.send(new GetSecretValueCommand({ SecretId: "no/such/secret" }));
    await expect(missing).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("serves the new value after setSecret, under the name and the ARN", async () => {
    const other = { arn: `${SECRET.arn}-other`, name: `${SECRET.name}-other` };
    standIn.setSecret(other, "first");
    standIn.setSecret(other, "second");
    for (const SecretId of [other.arn, other.name]) {
      const got = await client.send(new GetSecretValueCommand({ SecretId }));
      expect(got.SecretString).toBe("second");
    }
  });

  it("lets Powertools getSecret read a secret when only environment variables point at it", async () => {
    // Powertools builds its default SecretsManagerClient on the first getSecret call, so it sees
    // the stubbed env. It sits in node_modules, which vitest loads natively: resetModules does
    // not drop that cached client, so this must stay the file's only getSecret call.
    vi.resetModules();
    const { getSecret } = await import("@aws-lambda-powertools/parameters/secrets");
    const before = standIn.requests.length;
    expect(await getSecret(SECRET.name)).toBe(SECRET.value);
    expect(standIn.requests.slice(before)).toEqual([
      {
        secretId: SECRET.name,
        accessKeyId: ACCESS_KEY_ID,
        region: REGION,
        service: "secretsmanager",
      },
    ]);
  });

  it("records the access key id, region and service from the SigV4 signature", async () => {
    const before = standIn.requests.length;
    await client.send(new GetSecretValueCommand({ SecretId: SECRET.arn }));
    expect(standIn.requests.slice(before)).toEqual([
      {
        secretId: SECRET.arn,
        accessKeyId: ACCESS_KEY_ID,
        region: REGION,
        service: "secretsmanager",
      },
    ]);
  });

  it("refuses an unsigned request with 403 MissingAuthenticationTokenException", async () => {
    const res = await fetch(standIn.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.GetSecretValue",
      },
      body: JSON.stringify({ SecretId: SECRET.name }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ __type: "MissingAuthenticationTokenException" });
  });
});

describe("Step Functions stand-in", () => {
  let standIn: StepFunctionsStandIn;
  let client: SFNClient;
  const started: StartedExecution[] = [];
  beforeAll(async () => {
    standIn = await startStepFunctions({
      stateMachines: [MACHINE],
      onStart: (execution) => started.push(execution),
    });
  });
  afterAll(() => standIn.close());
  beforeEach(() => {
    stubAwsEnv("AWS_ENDPOINT_URL_SFN", standIn.endpoint);
    client = new SFNClient({});
    standIn.executions.length = 0;
    started.length = 0;
  });
  afterEach(() => client.destroy());

  const start = (name: string | undefined, input: string) =>
    client.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name, input }));

  it("starts an execution named as asked, with its exact input, and says where it is", async () => {
    const input = '{"dates":["2026-11-27"],"note":"Größe 训练 ✓"}';
    const got = await start("a5d2-regeneration_1", input);
    const arn =
      "arn:aws:states:eu-west-3:123456789012:execution:usage-report-ci-run:a5d2-regeneration_1";
    expect(got.executionArn).toBe(arn);
    expect(got.startDate).toBeInstanceOf(Date);
    expect(standIn.executions).toEqual([
      expect.objectContaining({
        executionArn: arn,
        name: "a5d2-regeneration_1",
        input,
        status: "RUNNING",
      }),
    ]);
    expect(started.map((e) => e.executionArn)).toEqual([arn]);
    // Who asked, from the SigV4 scope: the SDK signs Step Functions as "states".
    expect(standIn.executions[0]).toMatchObject({
      accessKeyId: ACCESS_KEY_ID,
      region: REGION,
      service: "states",
    });
  });

  it("names an execution started without a name with a UUID", async () => {
    const got = await start(undefined, "{}");
    expect(got.executionArn).toMatch(/:execution:usage-report-ci-run:[0-9a-f-]{36}$/);
  });

  it("answers the same running execution for the same name and input, once started", async () => {
    const first = await start("same", '{"a":1}');
    const again = await start("same", '{"a":1}');
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    expect(standIn.executions).toHaveLength(1);
    expect(started).toHaveLength(1);
  });

  it("refuses a used name with other input, or once its execution has ended: ExecutionAlreadyExists", async () => {
    const first = await start("used", '{"a":1}');
    await expect(start("used", '{"a":2}')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    standIn.finish(first.executionArn ?? "", "SUCCEEDED");
    const ended = await start("used", '{"a":1}').catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(ExecutionAlreadyExists);
    expect(ended).toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(standIn.executions).toHaveLength(1);
  });

  it("refuses an unknown state machine, a bad name and input that is not JSON, by their types", async () => {
    const other = client.send(
      new StartExecutionCommand({ stateMachineArn: `${MACHINE}-other`, name: "x", input: "{}" }),
    );
    await expect(other).rejects.toMatchObject({ name: "StateMachineDoesNotExist" });
    await expect(start("a:b", "{}")).rejects.toMatchObject({ name: "InvalidName" });
    await expect(start("x".repeat(81), "{}")).rejects.toMatchObject({ name: "InvalidName" });
    await expect(start("bad-input", "{")).rejects.toMatchObject({ name: "InvalidExecutionInput" });
    expect(standIn.executions).toEqual([]);
  });

  it("refuses an unsigned request with 403", async () => {
    const res = await fetch(standIn.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AWSStepFunctions.StartExecution",
      },
      body: JSON.stringify({ stateMachineArn: MACHINE, name: "unsigned", input: "{}" }),
    });
    expect(res.status).toBe(403);
    expect(standIn.executions).toEqual([]);
  });
});

describe("SNS stand-in", () => {
  const SNS_REGION = "eu-central-1";
  const TOPIC = "arn:aws:sns:eu-central-1:123456789012:usage-report-ci-digest";
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: "not-a-real-secret-key" };
  let standIn: SnsStandIn;
  let client: SNSClient;
  beforeAll(async () => {
    standIn = await startSns({ topics: [TOPIC] });
  });
  afterAll(() => standIn.close());
  beforeEach(() => {
    client = new SNSClient({ endpoint: standIn.endpoint, region: SNS_REGION, credentials });
    standIn.published.length = 0;
  });
  afterEach(() => client.destroy());

  const publish = (input: Partial<PublishCommandInput>) =>
    client.send(new PublishCommand({ TopicArn: TOPIC, Message: "m", ...input }));

  it("records a Publish with its subject and exact message, under the MessageId the SDK returns", async () => {
    const message = "GPU-hours 12.5 (−3%)\n训练 Größe & <b>\r\n\ttop: a+b=c; 100%\n";
    const before = standIn.requests.length;
    const got = await publish({ Subject: "Usage report 2026-11-27: 2 alerts", Message: message });
    expect(got.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.$metadata.httpStatusCode).toBe(200);
    expect(standIn.published).toEqual([
      {
        topicArn: TOPIC,
        subject: "Usage report 2026-11-27: 2 alerts",
        message,
        messageId: got.MessageId,
        accessKeyId: ACCESS_KEY_ID,
        region: SNS_REGION,
        service: "sns",
      },
    ]);
    expect(standIn.requests.slice(before)).toEqual([
      { action: "Publish", topicArn: TOPIC, accessKeyId: ACCESS_KEY_ID },
    ]);
  });

  it("records a Publish without a subject as such", async () => {
    await publish({ Message: "no subject" });
    expect(standIn.published).toMatchObject([{ subject: undefined, message: "no subject" }]);
  });

  it("makes the SDK throw NotFoundException for a topic it does not hold", async () => {
    const missing = await publish({ TopicArn: `${TOPIC}-other` }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundException);
    expect(missing).toMatchObject({
      message: "Topic does not exist",
      $metadata: { httpStatusCode: 404 },
    });
    expect(standIn.published).toEqual([]);
  });

  it("refuses a subject over 100 characters, with a line break, not ASCII or empty: InvalidParameterException", async () => {
    for (const Subject of ["x".repeat(101), "Usage report\n2 alerts", "GPU-hours −3%", "", " x"]) {
      const refused = await publish({ Subject }).catch((e: unknown) => e);
      expect(refused, JSON.stringify(Subject)).toBeInstanceOf(InvalidParameterException);
      expect(refused).toMatchObject({
        message: "Invalid parameter: Subject",
        $metadata: { httpStatusCode: 400 },
      });
    }
    expect(standIn.published).toEqual([]);
    await publish({ Subject: `${"x".repeat(98)}!?` });
    expect(standIn.published).toHaveLength(1);
  });

  it("refuses an empty message and one over 262144 bytes in UTF-8, accepts one of exactly 262144", async () => {
    const refusals = [
      ["", "Invalid parameter: Empty message"],
      ["x".repeat(262_145), "Invalid parameter: Message too long"],
      // 87,382 characters, 262,146 bytes: the limit counts bytes.
      ["€".repeat(87_382), "Invalid parameter: Message too long"],
    ] as const;
    for (const [Message, text] of refusals) {
      const refused = await publish({ Message }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InvalidParameterException);
      expect(refused).toMatchObject({ message: text });
    }
    expect(standIn.published).toEqual([]);
    const largest = `${"€".repeat(87_381)}x`;
    expect(Buffer.byteLength(largest)).toBe(262_144);
    await publish({ Message: largest });
    expect(standIn.published.map((p) => p.message)).toEqual([largest]);
  });

  it("refuses a topic in another region than the request is signed for", async () => {
    const elsewhere = new SNSClient({ endpoint: standIn.endpoint, region: REGION, credentials });
    try {
      const refused = await elsewhere
        .send(new PublishCommand({ TopicArn: TOPIC, Message: "m" }))
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InvalidParameterException);
      expect(refused).toMatchObject({ message: "Invalid parameter: TopicArn" });
    } finally {
      elsewhere.destroy();
    }
    expect(standIn.published).toEqual([]);
  });

  it("answers other actions with InvalidAction", async () => {
    const refused = await client.send(new ListTopicsCommand({})).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: "InvalidAction", $metadata: { httpStatusCode: 400 } });
    expect(standIn.requests.at(-1)).toEqual({
      action: "ListTopics",
      topicArn: undefined,
      accessKeyId: ACCESS_KEY_ID,
    });
  });

  const form = new URLSearchParams({
    Action: "Publish",
    Version: "2010-03-31",
    TopicArn: TOPIC,
    Message: "unsigned",
  }).toString();

  it("refuses an unsigned request with 403 MissingAuthenticationToken, in SNS's XML error shape", async () => {
    const before = standIn.requests.length;
    const res = await fetch(standIn.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("text/xml");
    expect(await res.text()).toMatch(
      /^<ErrorResponse xmlns="http:\/\/sns\.amazonaws\.com\/doc\/2010-03-31\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code><Message>[^<]+<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    expect(standIn.requests.length).toBe(before);
    expect(standIn.published).toEqual([]);
  });

  it("refuses a request signed for another service with 403, and records it", async () => {
    const res = await fetch(standIn.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/20261127/${SNS_REGION}/sqs/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: form,
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(standIn.requests.at(-1)).toEqual({
      action: "Publish",
      topicArn: TOPIC,
      accessKeyId: ACCESS_KEY_ID,
    });
    expect(standIn.published).toEqual([]);
  });

  it("is reached by a client with no endpoint option when AWS_ENDPOINT_URL_SNS is set", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL_SNS", standIn.endpoint);
    const fromEnv = new SNSClient({ region: SNS_REGION, credentials });
    try {
      const got = await fromEnv.send(new PublishCommand({ TopicArn: TOPIC, Message: "via env" }));
      expect(standIn.published).toMatchObject([{ message: "via env", messageId: got.MessageId }]);
    } finally {
      fromEnv.destroy();
    }
  });
});
