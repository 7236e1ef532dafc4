import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { akskAuth, staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import type { RetryPolicy } from "../../src/modelarts/retry.js";
import { scanVersions } from "../../src/scan/scan.js";
import { UpstreamError, UpstreamHttpError } from "../../src/shared/errors.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const PROJECT = "p-org";
const TOKEN = "ws-token-secret-value";
const AK = "AKWORKSPACES";
const SK = "sk-workspaces-secret";
const FAST_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 10_000 };

const VISION = "7c1e4a9b2d3f4e5a8b6c0d1e2f3a4b5c";
const NLP = "0a9b8c7d6e5f40312233445566778899";
const AUDIO = "1b2c3d4e5f60718293a4b5c6d7e8f901";
const ROBOTICS = "2c3d4e5f60718293a4b5c6d7e8f90a1b";
const HIDDEN = "3d4e5f60718293a4b5c6d7e8f90a1b2c";
const LOCKED = "4e5f60718293a4b5c6d7e8f90a1b2c3d";

const WORKSPACES = [
  { id: "0", name: "default" },
  { id: VISION, name: "Vision Team" },
  { id: NLP, name: "NLP" },
  { id: AUDIO, name: "Audio" },
  { id: ROBOTICS, name: "robotics" },
  { id: HIDDEN, name: "Finance", accessible: false },
];
const visionJobs = generateWorkload({ versions: 40, seed: 3, now: NOW }).map((v) => ({
  ...v,
  workspace_id: VISION,
}));

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    projectId: PROJECT,
    versions: [...generateWorkload({ versions: 30, seed: 2, now: NOW }), ...visionJobs],
    auth: { tokens: [TOKEN], aksk: [{ ak: AK, sk: SK }] },
    workspaces: [...WORKSPACES, { id: LOCKED, name: "Locked", forbidden: true }],
    workspacePageCap: 2,
    pageCap: 25,
  });
});
afterAll(() => sim.close());

function client(opts: { token?: string; workspaceId?: string; retry?: RetryPolicy } = {}) {
  return new ModelArtsClient({
    endpoint: sim.url,
    projectId: PROJECT,
    auth: staticTokenAuth(opts.token ?? TOKEN),
    workspaceId: opts.workspaceId,
    retry: opts.retry ?? FAST_RETRY,
    timeoutMs: 2_000,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("listWorkspaces against the simulator", () => {
  it("pages through every accessible workspace, two a page, in name order", async () => {
    const before = sim.requests.workspaces;
    const listed = await client().listWorkspaces();
    // Accessible: the 6 given less Finance, plus Locked (listed; its versions are refused).
    // By name, code units (upper case first): Audio, Locked, NLP, Vision Team, default, robotics.
    expect(listed).toEqual([
      { id: AUDIO, name: "Audio" },
      { id: LOCKED, name: "Locked" },
      { id: NLP, name: "NLP" },
      { id: VISION, name: "Vision Team" },
      { id: "0", name: "default" },
      { id: ROBOTICS, name: "robotics" },
    ]);
    // 6 workspaces at most 2 a page: offsets 0, 2 and 4.
    expect(sim.requests.workspaces - before).toBe(3);
  });

  it("leaves out a workspace that is not accessible", async () => {
    const listed = await client().listWorkspaces();
    expect(listed.map((w) => w.id)).not.toContain(HIDDEN);
    // Without filter_accessible the simulator lists it: the client's filter is what hides it.
    const all = await fetch(`${sim.url}/v1/${PROJECT}/workspaces?limit=10`, {
      headers: { "X-Auth-Token": TOKEN },
    });
    // Still capped at 2 a page, but total_count counts all 7.
    expect(await all.json()).toMatchObject({ total_count: 7, count: 2 });
  });

  it("signs ListWorkspace with AK/SK like the versions listing", async () => {
    const signed = new ModelArtsClient({
      endpoint: sim.url,
      projectId: PROJECT,
      auth: akskAuth({ ak: AK, sk: SK, projectId: PROJECT }),
      retry: FAST_RETRY,
    });
    expect((await signed.listWorkspaces()).length).toBe(6);
  });

  it("retries a page that failed with a 503, as the versions listing does", async () => {
    sim.queueWorkspaceFaults({ kind: "status", status: 503 });
    const before = sim.requests.workspaces;
    expect((await client().listWorkspaces()).length).toBe(6);
    expect(sim.requests.workspaces - before).toBe(4);
  });

  it("names modelarts:workspace:list when ListWorkspace answers 401", async () => {
    const error = await failure(client({ token: "wrong-token" }).listWorkspaces());
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as UpstreamHttpError).status).toBe(401);
    expect(error.message).toContain("modelarts:workspace:list");
    expect(error.message).toContain(`project ${PROJECT}`);
    expect(error.message).not.toContain("wrong-token");
  });

  it("names modelarts:workspace:list when ListWorkspace answers 403, without retrying", async () => {
    sim.queueWorkspaceFaults({ kind: "status", status: 403 });
    const before = sim.requests.workspaces;
    const error = await failure(client().listWorkspaces());
    expect((error as UpstreamHttpError).status).toBe(403);
    expect(error.message).toMatch(/HTTP 403 ModelArts\.0108.*modelarts:workspace:list/);
    expect(sim.requests.workspaces - before).toBe(1);
  });

  it("fails with the field that is wrong when a page is malformed", async () => {
    const bad = { total_count: 2, count: 2, workspaces: [{ id: 7, name: "x" }, { id: "9" }] };
    // Retried like a bad versions page: the fault for every attempt.
    sim.queueWorkspaceFaults(...Array(FAST_RETRY.maxAttempts).fill({ kind: "body", body: bad }));
    const error = await failure(client().listWorkspaces());
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/v1\/p-org\/workspaces\?filter_accessible=true&offset=0&limit=1000&sort_by=name&order=asc answered a workspaces page without a valid workspaces\.0\.id \(/,
    );
    expect(error.message).not.toContain(TOKEN);
  });

  it("fails when the page has no workspaces array", async () => {
    sim.queueWorkspaceFaults(
      ...Array(FAST_RETRY.maxAttempts).fill({ kind: "body", body: { total_count: 1 } }),
    );
    const error = await failure(client().listWorkspaces());
    expect(error.message).toContain("answered a workspaces page without a valid workspaces (");
  });

  it("stops with an error when a page adds no workspace before total_count is reached", async () => {
    const page = {
      total_count: 3,
      count: 2,
      workspaces: [
        { id: "0", name: "default" },
        { id: NLP, name: "NLP" },
      ],
    };
    // The second page repeats the first: reading on would never reach 3.
    sim.queueWorkspaceFaults({ kind: "body", body: page }, { kind: "body", body: page });
    const before = sim.requests.workspaces;
    const error = await failure(client().listWorkspaces());
    expect(error.message).toMatch(/offset=2&.* added no workspace although 2 of total_count 3/);
    expect(sim.requests.workspaces - before).toBe(2);
  });

  it("stops with an error on an empty page inside total_count", async () => {
    sim.queueWorkspaceFaults({ kind: "empty" });
    const error = await failure(client().listWorkspaces());
    expect(error.message).toContain("added no workspace although 0 of total_count 6");
  });
});

describe("the versions listing of a workspace", () => {
  it("reads the workspace's own versions only", async () => {
    const result = await scanVersions(client({ workspaceId: VISION }), {
      pageSize: 100,
      keep: () => true,
    });
    expect(result.versionsScanned).toBe(visionJobs.length);
  });

  it("names the workspace and the permission when the listing answers 403", async () => {
    const before = sim.requests.listing;
    const error = await failure(
      scanVersions(client({ workspaceId: LOCKED }), { pageSize: 100, keep: () => true }),
    );
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as UpstreamHttpError).status).toBe(403);
    expect(error.message).toContain(`workspace ${LOCKED}`);
    expect(error.message).toContain("modelarts:trainJob:list");
    // Refused, not retried.
    expect(sim.requests.listing - before).toBe(1);
  });

  it("refuses the listing of a workspace that is not accessible", async () => {
    const error = await failure(client({ workspaceId: HIDDEN }).listPage(0, 10));
    expect((error as UpstreamHttpError).status).toBe(403);
    expect(error.message).toContain(`workspace ${HIDDEN}`);
  });

  it('names workspace "0" when the default listing is refused', async () => {
    const error = await failure(client({ token: "expired" }).listPage(0, 10));
    expect((error as UpstreamHttpError).status).toBe(401);
    expect(error.message).toContain(
      `listing the training jobs of workspace 0 needs credentials of project ${PROJECT} allowed the IAM action modelarts:trainJob:list`,
    );
  });
});
