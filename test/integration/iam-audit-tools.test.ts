import { randomBytes } from "node:crypto";
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, readPolicy, s3Requests, wildcardMatch } from "../helpers/iam-policy.js";
import { allowS3Keys, type LocalS3, startS3 } from "../helpers/s3.js";
import { type S3Recorder, startS3Recorder } from "../helpers/s3-recorder.js";

/**
 * The IAM audit's own tools (test/deployed/iam-audit.ts): the recording proxy in front of a
 * real s3rver, driven by the real SDK, and the policy evaluator on statements written here.
 */

const BUCKET = "audit-bucket";
const KEY_ID = "ASIARECORDERTEST";
let s3: LocalS3;
let recorder: S3Recorder;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  allowS3Keys(KEY_ID, "recorder-secret");
  recorder = await startS3Recorder(s3.endpoint);
  client = new S3Client({
    endpoint: recorder.endpoint,
    region: "eu-central-1",
    forcePathStyle: true,
    credentials: { accessKeyId: KEY_ID, secretAccessKey: "recorder-secret" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
});

afterAll(async () => {
  client?.destroy();
  await recorder?.close();
  await s3?.close();
});

const resource = (key: string) => `arn:aws:s3:::${BUCKET}/${key}`;
const mapped = (index: number) => {
  const call = recorder.calls[index];
  if (call === undefined) throw new Error(`no call ${index}`);
  return s3Requests(call);
};

describe("the recording S3 proxy", () => {
  it("passes signed requests and a 1 MB body through unchanged, and records each with its signer", async () => {
    const body = randomBytes(1024 * 1024);
    const before = recorder.calls.length;
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "reports/a b.bin",
        Body: body,
        IfNoneMatch: "*",
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "reports/a b.bin" }));
    expect(Buffer.from(await (got.Body?.transformToByteArray() ?? []))).toEqual(body);
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "reports/a b.bin" }));
    await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "reports/" }));
    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "reports/copy.bin",
        CopySource: `${BUCKET}/reports/a b.bin`,
      }),
    );
    const calls = recorder.calls.slice(before);
    expect(calls.map((c) => [c.method, c.key, c.status, c.accessKeyId])).toEqual([
      ["PUT", "reports/a b.bin", 200, KEY_ID],
      ["GET", "reports/a b.bin", 200, KEY_ID],
      ["HEAD", "reports/a b.bin", 200, KEY_ID],
      ["GET", "", 200, KEY_ID],
      ["PUT", "reports/copy.bin", 200, KEY_ID],
    ]);
    // As S3 checks them: a conditional write is PutObject, HEAD is GetObject, a list is
    // ListBucket with its prefix, a copy needs PutObject here and GetObject on its source.
    expect(calls[0]?.headers.ifNoneMatch).toBe("*");
    const ctx = { "aws:SecureTransport": "true" };
    expect([0, 1, 2, 3, 4].map((i) => mapped(before + i))).toEqual([
      [{ action: "s3:PutObject", resource: resource("reports/a b.bin"), context: ctx }],
      [{ action: "s3:GetObject", resource: resource("reports/a b.bin"), context: ctx }],
      [{ action: "s3:GetObject", resource: resource("reports/a b.bin"), context: ctx }],
      [
        {
          action: "s3:ListBucket",
          resource: `arn:aws:s3:::${BUCKET}`,
          context: { ...ctx, "s3:prefix": "reports/" },
        },
      ],
      [
        { action: "s3:PutObject", resource: resource("reports/copy.bin"), context: ctx },
        { action: "s3:GetObject", resource: resource("reports/a b.bin"), context: ctx },
      ],
    ]);
  });

  it("records a presigned URL's signer from X-Amz-Credential, and an unknown key's refusal", async () => {
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: BUCKET, Key: "reports/a b.bin" }),
      { expiresIn: 60 },
    );
    const before = recorder.calls.length;
    expect((await fetch(url)).status).toBe(200);
    // s3rver checks that a SigV4 key id is known, not the signature itself (its V4
    // calculation is unimplemented): an unknown key id is the refusal it can give.
    const stranger = new S3Client({
      endpoint: recorder.endpoint,
      region: "eu-central-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "ASIANOBODY", secretAccessKey: "x" },
    });
    await expect(
      stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: "reports/a b.bin" })),
    ).rejects.toThrow();
    stranger.destroy();
    const [presigned, refused] = recorder.calls.slice(before);
    expect(presigned).toMatchObject({ presigned: true, accessKeyId: KEY_ID, status: 200 });
    expect(presigned?.query).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
    expect(refused).toMatchObject({ presigned: false, accessKeyId: "ASIANOBODY", status: 403 });
  });
});

describe("the IAM evaluator", () => {
  const resolve = (value: unknown) => String(value);
  const policy = readPolicy(
    {
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:GetObject", "S3:Put*"],
          Resource: "arn:aws:s3:::b/reports/*",
        },
        { Effect: "Deny", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/reports/runs/*" },
        {
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: "arn:aws:s3:::b",
          Condition: { StringLike: { "s3:prefix": ["reports/*"] } },
        },
        {
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: "arn:x:secret:s-??????",
        },
      ],
    },
    resolve,
    "Role/p",
  );
  const effect = (action: string, resource: string, context?: Record<string, string>) =>
    evaluate({ action, resource, ...(context ? { context } : {}) }, policy).effect;

  it("allows by action list and wildcard, case-insensitive actions, case-sensitive resources", () => {
    expect(effect("s3:getobject", "arn:aws:s3:::b/reports/x.json")).toBe("Allow");
    expect(effect("s3:PutObject", "arn:aws:s3:::b/reports/x.json")).toBe("Allow");
    expect(effect("s3:PutObject", "arn:aws:s3:::b/Reports/x.json")).toBe("ImplicitDeny");
    expect(effect("s3:DeleteObject", "arn:aws:s3:::b/reports/x.json")).toBe("ImplicitDeny");
    // `?` is one character: the secret's 6-character suffix, not 5 nor 7.
    expect(effect("secretsmanager:GetSecretValue", "arn:x:secret:s-Ab12Cd")).toBe("Allow");
    expect(effect("secretsmanager:GetSecretValue", "arn:x:secret:s-Ab12C")).toBe("ImplicitDeny");
    expect(effect("secretsmanager:GetSecretValue", "arn:x:secret:s-Ab12Cde")).toBe("ImplicitDeny");
    expect(wildcardMatch("a*c", "a/b:c")).toBe(true);
  });

  it("lets an explicit Deny win over an Allow", () => {
    expect(
      evaluate({ action: "s3:GetObject", resource: "arn:aws:s3:::b/reports/runs/1" }, policy),
    ).toMatchObject({ effect: "ExplicitDeny", statement: { where: "Role/p#1" } });
  });

  it("holds a StringLike condition, and a missing condition key fails it", () => {
    expect(effect("s3:ListBucket", "arn:aws:s3:::b", { "s3:prefix": "reports/daily/" })).toBe(
      "Allow",
    );
    expect(effect("s3:ListBucket", "arn:aws:s3:::b", { "s3:prefix": "config/" })).toBe(
      "ImplicitDeny",
    );
    expect(effect("s3:ListBucket", "arn:aws:s3:::b")).toBe("ImplicitDeny");
  });

  it("applies a resource policy's Deny (TLS only) beside the identity policy", () => {
    const bucketPolicy = readPolicy(
      {
        Statement: {
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: "arn:aws:s3:::b/*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      },
      resolve,
      "BucketPolicy",
      "resource",
    );
    const request = (tls: string) => ({
      action: "s3:GetObject",
      resource: "arn:aws:s3:::b/reports/x",
      context: { "aws:SecureTransport": tls },
    });
    expect(evaluate(request("true"), policy, bucketPolicy).effect).toBe("Allow");
    expect(evaluate(request("false"), policy, bucketPolicy).effect).toBe("ExplicitDeny");
  });

  it("refuses statements it does not evaluate instead of calling them harmless", () => {
    const read = (statement: object) => () => readPolicy({ Statement: statement }, resolve, "R");
    expect(read({ Effect: "Allow", NotAction: "s3:*", Resource: "*" })).toThrow(/NotAction/);
    expect(read({ Effect: "Allow", Action: "s3:*", NotResource: "x" })).toThrow(/NotResource/);
    expect(
      read({ Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { IpAddress: {} } }),
    ).toThrow(/IpAddress/);
  });
});
