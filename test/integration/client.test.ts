import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { akskAuth, iamPasswordAuth, staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import type { RetryPolicy } from "../../src/modelarts/retry.js";
import { scanVersions } from "../../src/scan/scan.js";
import { UpstreamError, UpstreamHttpError } from "../../src/shared/errors.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const PROJECT = "p-0123";
const FAST_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 10_000 };
const workload = generateWorkload({ versions: 1234, seed: 11, now: NOW });

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    projectId: PROJECT,
    versions: workload,
    auth: {
      tokens: ["good-token"],
      aksk: [{ ak: "AKTEST", sk: "sk-test-secret" }],
      iamUsers: [{ username: "alice", password: "alice-password-1", domain: "acme" }],
    },
    pageCap: 37,
    now: () => Date.now(),
  });
});
afterAll(() => sim.close());

function client(auth = staticTokenAuth("good-token"), retry = FAST_RETRY) {
  return new ModelArtsClient({
    endpoint: sim.url,
    projectId: PROJECT,
    auth,
    retry,
    timeoutMs: 2_000,
  });
}

describe("paging through the simulator", () => {
  it("reads every version exactly once when pages are capped below the asked limit", async () => {
    sim.setVersions(workload);
    const before = sim.requests.listing;
    const result = await scanVersions(client(), { pageSize: 100, keep: () => true });
    expect(result.versionsScanned).toBe(workload.length);
    expect([...result.versions.keys()].sort((a, b) => a - b)).toEqual(
      workload.map((v) => v.version_id).sort((a, b) => a - b),
    );
    // 37 a page (the cap, not the 100 asked), neighbours sharing 1 record: the first page,
    // then ceil((1234 − 37) / 36) = 34 more — a plain offset scan would need ceil(1234/37) = 34
    expect(result.pages).toBe(35);
    expect(result.repairPages).toBe(0);
    expect(sim.requests.listing - before).toBe(result.pages);
    expect(result.anomalies).toEqual({ skipped: 0, duplicate_rows: 0, reasons: {} });
  });

  it("skips and counts a bad record, and counts a record read on two pages once", async () => {
    const bad = { version_id: 999_999_001, status: 10, create_time: NOW - 1000, gpu_num: -1 };
    const notObject = "garbage";
    sim.setVersions([...workload.slice(0, 50), bad, notObject]);
    try {
      const result = await scanVersions(client(), { pageSize: 20, keep: () => true });
      // Pages at offsets 0, 19 and 38 overlap by 1: 54 records read, 52 distinct.
      expect(result.pages).toBe(3);
      expect(result.versionsScanned).toBe(50);
      expect(result.recordsRead).toBe(52);
      expect(result.anomalies).toEqual({
        skipped: 2,
        duplicate_rows: 0,
        reasons: { "gpu_num: not a non-negative integer": 1, "record: not an object": 1 },
      });
    } finally {
      sim.setVersions(workload);
    }
  });
});

describe("authentication", () => {
  it("accepts AK/SK signed requests", async () => {
    const page = await client(
      akskAuth({ ak: "AKTEST", sk: "sk-test-secret", projectId: PROJECT }),
    ).listPage(0, 5);
    expect(page.totalCount).toBe(workload.length);
    expect(page.records).toHaveLength(5);
  });

  it("accepts a token fetched from IAM", async () => {
    const auth = iamPasswordAuth({
      iamEndpoint: sim.url,
      username: "alice",
      password: "alice-password-1",
      domain: "acme",
      projectId: PROJECT,
    });
    const page = await client(auth).listPage(0, 5);
    expect(page.records).toHaveLength(5);
  });

  it("rejects a wrong AK/SK with an error naming the code, without the secret", async () => {
    const error = await client(
      akskAuth({ ak: "AKTEST", sk: "wrong-secret-xyz", projectId: PROJECT }),
    )
      .listPage(0, 5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as UpstreamHttpError).status).toBe(403);
    expect((error as UpstreamHttpError).message).toContain("ModelArts.0206");
    expect((error as UpstreamHttpError).message).not.toContain("wrong-secret-xyz");
  });

  it("rejects a bad token after no more than one refresh attempt", async () => {
    const before = sim.requests.listing;
    const error = await client(staticTokenAuth("bad-token-123"))
      .listPage(0, 5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as UpstreamHttpError).status).toBe(401);
    expect((error as UpstreamHttpError).message).not.toContain("bad-token-123");
    expect(sim.requests.listing - before).toBe(1); // a static token cannot be refreshed
  });

  it("rejects wrong IAM credentials with a clear error", async () => {
    const auth = iamPasswordAuth({
      iamEndpoint: sim.url,
      username: "alice",
      password: "not-her-password",
      domain: "acme",
      projectId: PROJECT,
    });
    const error = await client(auth)
      .listPage(0, 5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as Error).message).toMatch(/401/);
    expect((error as Error).message).not.toContain("not-her-password");
  });
});

describe("upstream errors", () => {
  it("surfaces is_success:false on HTTP 200 as an error naming the code", async () => {
    sim.queueFaults({
      kind: "not-success",
      errorCode: "ModelArts.0104",
      errorMessage: "bad offset",
    });
    const error = await client()
      .listPage(0, 5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as UpstreamHttpError).errorCode).toBe("ModelArts.0104");
    expect((error as UpstreamHttpError).status).toBe(200);
    expect((error as Error).message).toContain("ModelArts.0104");
    expect((error as UpstreamHttpError).requestId).toBeTruthy();
  });

  it("retries a retryable is_success:false and then succeeds", async () => {
    sim.queueFaults({ kind: "not-success", errorCode: "ModelArts.0105" });
    const page = await client().listPage(0, 5);
    expect(page.records).toHaveLength(5);
  });

  it("retries 5xx, 429, resets and truncated bodies", async () => {
    sim.queueFaults(
      { kind: "status", status: 503 },
      { kind: "status", status: 429, retryAfterSeconds: 0 },
      { kind: "truncate" },
    );
    const page = await client().listPage(0, 5);
    expect(page.records).toHaveLength(5);
    sim.queueFaults({ kind: "reset" }, { kind: "non-json" }, { kind: "truncate", mode: "abort" });
    expect((await client().listPage(0, 5)).records).toHaveLength(5);
  });

  it("gives up after the configured attempts with a clear error", async () => {
    sim.queueFaults(...Array.from({ length: 4 }, () => ({ kind: "status" as const, status: 502 })));
    const error = await client()
      .listPage(0, 5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as Error).message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/v1\/p-0123\/training-jobs\/versions\?.* failed with HTTP 502/,
    );
  });

  it("times out a request that gets no answer", async () => {
    sim.queueFaults({ kind: "hang" });
    const c = new ModelArtsClient({
      endpoint: sim.url,
      projectId: PROJECT,
      auth: staticTokenAuth("good-token"),
      retry: { ...FAST_RETRY, maxAttempts: 1 },
      timeoutMs: 300,
    });
    const error = await c.listPage(0, 5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toContain("no answer within 300 ms");
  });
});

describe("Retry-After", () => {
  it.each([
    ["delta-seconds", "2", 2000],
    ["an IMF-fixdate", () => new Date(Date.now() + 3_000).toUTCString(), [2000, 3000]],
    ["a decimal, which is no valid form", "1.5", 50],
    ["a negative number", "-1", 50],
    ["a word", "later", 50],
  ] as const)("waits as %s says, or backs off as usual", async (_label, header, expected) => {
    const delays: number[] = [];
    const c = new ModelArtsClient({
      endpoint: sim.url,
      projectId: PROJECT,
      auth: staticTokenAuth("good-token"),
      retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 60_000 },
      retryHooks: {
        random: () => 0.5,
        sleep: async () => {},
        onRetry: ({ delayMs }) => delays.push(delayMs),
      },
    });
    const value = typeof header === "function" ? header() : header;
    sim.queueFaults({ kind: "status", status: 429, retryAfter: value });
    await c.listPage(0, 5);
    expect(delays).toHaveLength(1);
    if (typeof expected === "number") expect(delays[0]).toBe(expected);
    else {
      expect(delays[0]).toBeGreaterThanOrEqual(expected[0]);
      expect(delays[0]).toBeLessThanOrEqual(expected[1]);
    }
  });
});

describe("the run's deadline", () => {
  it("stops retrying and shortens timeouts so no request outlives it", async () => {
    const started = Date.now();
    const c = new ModelArtsClient({
      endpoint: sim.url,
      projectId: PROJECT,
      auth: staticTokenAuth("good-token"),
      // generous attempts and timeout, but the run must be over in 400 ms
      retry: {
        maxAttempts: 10,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        budgetMs: 60_000,
        deadline: started + 400,
      },
      timeoutMs: 30_000,
    });
    sim.queueFaults({ kind: "status", status: 429, retryAfterSeconds: 5 });
    const throttled = await c.listPage(0, 5).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(UpstreamHttpError); // a 5 s Retry-After would pass the deadline
    sim.queueFaults({ kind: "hang" });
    const hung = await c.listPage(0, 5).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(UpstreamError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("works with a deadline that is not a whole millisecond, as half a Lambda's time can be", async () => {
    const c = new ModelArtsClient({
      endpoint: sim.url,
      projectId: PROJECT,
      auth: staticTokenAuth("good-token"),
      retry: { ...FAST_RETRY, deadline: Date.now() + 59_999 / 2 },
    });
    const page = await c.listPage(0, 5);
    expect(page.records).toHaveLength(5);
  });
});
