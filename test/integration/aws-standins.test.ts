import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type LambdaInvocation,
  type LambdaStandIn,
  type SecretsManagerStandIn,
  startLambda,
  startSecretsManager,
} from "../helpers/aws-standins.js";

const REGION = "eu-west-3";
const ACCESS_KEY_ID = "AKIASTANDINTEST00001";

const SECRET = {
  arn: "arn:aws:secretsmanager:eu-west-3:123456789012:secret:usage-report/api-key-AbCdEf",
  name: "usage-report/api-key",
  value: '{"apiKey":"s3cr3t-Größe"}',
};

const FUNCTION = {
  name: "usage-report-ci-generateReport",
  arn: "arn:aws:lambda:eu-west-3:123456789012:function:usage-report-ci-generateReport",
};

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

describe("Lambda stand-in", () => {
  let standIn: LambdaStandIn;
  let client: LambdaClient;
  let onInvoke: (inv: LambdaInvocation) => unknown;
  beforeAll(async () => {
    standIn = await startLambda({ functions: [FUNCTION], onInvoke: (inv) => onInvoke(inv) });
  });
  afterAll(() => standIn.close());
  beforeEach(() => {
    stubAwsEnv("AWS_ENDPOINT_URL_LAMBDA", standIn.endpoint);
    client = new LambdaClient({});
    standIn.invocations.length = 0;
    onInvoke = () => undefined;
  });
  afterEach(() => client.destroy());

  it("answers an Event invocation with 202 and records its exact payload once", async () => {
    const payload = '{"date":"2026-11-27","note":"Größe 训练 ✓"}';
    const got = await client.send(
      new InvokeCommand({
        FunctionName: FUNCTION.name,
        InvocationType: "Event",
        Payload: new TextEncoder().encode(payload),
      }),
    );
    expect(got.StatusCode).toBe(202);
    expect(standIn.invocations).toHaveLength(1);
    expect(standIn.invocations[0]).toMatchObject({
      functionName: FUNCTION.name,
      invocationType: "Event",
      payload,
    });
  });

  it("returns the onInvoke result as the payload of a RequestResponse invocation", async () => {
    onInvoke = (inv) => ({ echoed: JSON.parse(inv.payload) as unknown, ok: true });
    const got = await client.send(
      new InvokeCommand({
        FunctionName: FUNCTION.arn,
        InvocationType: "RequestResponse",
        Payload: JSON.stringify({ date: "2026-11-27" }),
      }),
    );
    expect(got.StatusCode).toBe(200);
    expect(got.ExecutedVersion).toBe("$LATEST");
    expect(got.FunctionError).toBeUndefined();
    expect(JSON.parse(got.Payload?.transformToString() ?? "")).toEqual({
      echoed: { date: "2026-11-27" },
      ok: true,
    });
    expect(standIn.invocations[0]?.functionName).toBe(FUNCTION.name);
  });

  it("answers null when there is no onInvoke result, and FunctionError when it throws", async () => {
    const quiet = await client.send(new InvokeCommand({ FunctionName: FUNCTION.name }));
    expect(quiet.Payload?.transformToString()).toBe("null");
    onInvoke = () => {
      throw new TypeError("boom");
    };
    const failed = await client.send(new InvokeCommand({ FunctionName: FUNCTION.name }));
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe("Unhandled");
    expect(JSON.parse(failed.Payload?.transformToString() ?? "")).toEqual({
      errorType: "TypeError",
      errorMessage: "boom",
    });
  });

  it("makes the SDK throw ResourceNotFoundException for an unknown function", async () => {
    const missing = client.send(
      new InvokeCommand({ FunctionName: "no-such-function", InvocationType: "Event" }),
    );
    await expect(missing).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Function not found: no-such-function",
      $metadata: { httpStatusCode: 404 },
    });
    expect(standIn.invocations).toEqual([]);
  });

  it("records the access key id, region and service from the SigV4 signature", async () => {
    await client.send(new InvokeCommand({ FunctionName: FUNCTION.name, InvocationType: "Event" }));
    expect(standIn.invocations[0]).toMatchObject({
      accessKeyId: ACCESS_KEY_ID,
      region: REGION,
      service: "lambda",
    });
  });

  it("refuses an unsigned request with 403 AccessDeniedException", async () => {
    const res = await fetch(
      `${standIn.endpoint}/2015-03-31/functions/${FUNCTION.name}/invocations`,
      {
        method: "POST",
        headers: { "x-amz-invocation-type": "Event" },
        body: "{}",
      },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amzn-errortype")).toBe("AccessDeniedException");
    expect(standIn.invocations).toEqual([]);
  });
});
