import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UpstreamConfig } from "../../src/app/config.js";
import { createClient } from "../../src/app/upstream.js";
import { ConfigError } from "../../src/shared/errors.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";

/**
 * The deployed form of the credentials: one JSON document in a secret, fetched at run time,
 * turned into a client that the simulator accepts (token, AK/SK with its signed X-Project-Id,
 * IAM password), or refused with a message that names what was expected and shows nothing of
 * the secret.
 */

const PROJECT = "p-secret";
const SK = "sk-in-the-secret-123";
const PASSWORD = "iam-password-in-the-secret";
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    projectId: PROJECT,
    versions: generateWorkload({ versions: 50, seed: 3, now: Date.now() }),
    auth: {
      tokens: ["tok-in-the-secret"],
      aksk: [{ ak: "AKSECRET", sk: SK }],
      iamUsers: [{ username: "bob", password: PASSWORD, domain: "acme" }],
    },
  });
});
afterAll(() => sim.close());

const upstream = (): UpstreamConfig => ({
  endpoint: sim.url,
  projectId: PROJECT,
  workspaceId: null,
  poolId: null,
  auth: { kind: "secret", secretId: "arn:aws:secretsmanager:eu-central-1:1:secret:creds" },
  pageSize: 10,
  concurrency: 1,
  timeoutMs: 5_000,
  maxAttempts: 1,
});

const from = (document: unknown) => async () =>
  typeof document === "string" ? document : JSON.stringify(document);

describe("credentials from a secret", () => {
  it.each([
    ["a token", { token: "tok-in-the-secret" }],
    ["AK/SK (signed, with X-Project-Id)", { ak: "AKSECRET", sk: SK }],
    [
      "an IAM user on loopback",
      { iam_endpoint: "", username: "bob", password: PASSWORD, domain: "acme" },
    ],
  ])("reads %s and lists the project with it", async (_label, document) => {
    const doc = "iam_endpoint" in document ? { ...document, iam_endpoint: sim.url } : document;
    const client = await createClient(upstream(), { fetchSecret: from(doc) });
    const page = await client.listPage(0, 5);
    expect(page.records).toHaveLength(5);
  });

  it.each([
    ["plain http to another host", "http://iam.example.com"],
    ["another scheme", "ftp://iam.example.com"],
    ["a path", "https://iam.example.com/v3"],
    ["credentials in the URL", "https://u:p@iam.example.com"],
    ["no URL at all", "iam.example.com"],
  ])("refuses an iam_endpoint with %s, as it does IAM_ENDPOINT", async (_label, endpoint) => {
    const doc = { iam_endpoint: endpoint, username: "bob", password: PASSWORD, domain: "acme" };
    const error = await createClient(upstream(), { fetchSecret: from(doc) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/iam_endpoint must be an https:\/\/ base URL/);
    expect((error as Error).message).not.toContain(PASSWORD);
  });

  it.each([
    ["not JSON", `{"sk": "${SK}"`],
    ["two forms at once", { token: "t", ak: "a", sk: SK }],
    ["an unknown field", { ak: "a", sk: SK, region: "eu-de" }],
    ["an empty object (as the template creates it)", {}],
  ])("refuses a secret that is %s without showing it", async (_label, document) => {
    const error = await createClient(upstream(), { fetchSecret: from(document) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/is not a JSON object with \{token\}, \{ak, sk\}/);
    expect((error as Error).message).not.toContain(SK);
  });

  it("says so when there is no secret store to read it from", async () => {
    await expect(createClient(upstream())).rejects.toThrow(/no secret store is available/);
  });
});
