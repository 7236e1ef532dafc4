import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../src/modelarts/signer.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload, type RawVersion } from "../../src/simulator/workload.js";

const PROJECT = "proj-1";
const TOKEN = "good-token";
const AK = "TESTAK";
const SK = "test-secret-key";
const USER = { username: "alice", password: "alice-password", domain: "team" };
const START = Date.UTC(2026, 10, 28, 9, 0, 0);
let clock = START;

function version(id: number, patch: Partial<RawVersion> = {}): RawVersion {
  return {
    version_id: id,
    version_name: `job-${id}`,
    status: 10,
    create_time: START - 100_000 + id,
    start_time: START - 90_000 + id,
    end_time: START - 10_000,
    duration: 80_000 - id,
    version_desc: null,
    pool_id: null,
    flavor_code: "modelarts.p1.2xlarge",
    gpu_num: 1,
    npu_num: 0,
    ...patch,
  };
}

interface Page {
  is_success: boolean;
  total_count: number;
  versions: unknown[];
  offset: number;
  limit: number;
}

function ids(page: Page): unknown[] {
  return page.versions.map((v) => (v as RawVersion).version_id);
}

describe("ModelArts simulator", () => {
  let sim: Simulator;
  const listing = (query = "", headers: Record<string, string> = { "X-Auth-Token": TOKEN }) =>
    fetch(`${sim.url}/v1/${PROJECT}/training-jobs/versions${query}`, { headers });
  const page = async (query: string): Promise<Page> => {
    const res = await listing(query);
    expect(res.status).toBe(200);
    return (await res.json()) as Page;
  };

  beforeAll(async () => {
    sim = await startSimulator({
      projectId: PROJECT,
      versions: [],
      auth: { tokens: [TOKEN], aksk: [{ ak: AK, sk: SK }], iamUsers: [USER] },
      now: () => clock,
    });
  });
  afterEach(() => {
    clock = START;
    sim.onListing(undefined);
  });
  afterAll(() => sim.close());

  describe("listing", () => {
    const data = Array.from({ length: 45 }, (_, i) => version(1000 + i * 3));

    it("pages with offset and limit, newest first by default, and echoes them", async () => {
      sim.setVersions(data);
      const first = await page("?offset=0&limit=10");
      expect(first).toMatchObject({ is_success: true, total_count: 45, offset: 0, limit: 10 });
      expect(ids(first)).toEqual(
        data
          .slice(-10)
          .reverse()
          .map((v) => v.version_id),
      );
      const last = await page("?offset=40&limit=10");
      expect(ids(last)).toEqual(
        data
          .slice(0, 5)
          .reverse()
          .map((v) => v.version_id),
      );
      expect((await page("?offset=45&limit=10")).versions).toEqual([]);
      expect((await page("?offset=4500")).versions).toEqual([]);
    });

    it("serves 20 records when no limit is given", async () => {
      sim.setVersions(data);
      const res = await page("");
      expect(res.versions).toHaveLength(20);
      expect(res).toMatchObject({ offset: 0, limit: 20, total_count: 45 });
    });

    it("returns every record for limit=0", async () => {
      sim.setVersions(data);
      const all = await page("?limit=0");
      expect(all.versions).toHaveLength(45);
      expect(all.limit).toBe(0);
    });

    it("filters on status, pool_id and workspace_id", async () => {
      sim.setVersions([
        version(1, { status: 8, end_time: 0, pool_id: "pool-a" }),
        version(2, { status: 11, pool_id: "pool-a" }),
        version(3, { status: 8, end_time: 0 }),
        { ...version(4, { status: 8 }), workspace_id: "ws-9" },
      ]);
      expect(ids(await page("?status=8&order=asc"))).toEqual([1, 3]);
      expect(ids(await page("?pool_id=pool-a&order=asc"))).toEqual([1, 2]);
      expect(ids(await page("?status=8&pool_id=pool-a"))).toEqual([1]);
      expect(ids(await page("?workspace_id=ws-9"))).toEqual([4]);
      expect(ids(await page("?workspace_id=0&order=asc"))).toEqual([1, 2, 3]);
      expect((await page("?status=3")).total_count).toBe(0);
    });

    it("sorts ascending and descending stably, breaking ties by version_id", async () => {
      // Same create_time for all: the order comes from version_id alone, whatever the input order.
      const tied = [7, 3, 9, 1, 5].map((id) => version(id, { create_time: START - 1 }));
      sim.setVersions(tied);
      expect(ids(await page("?order=asc"))).toEqual([1, 3, 5, 7, 9]);
      expect(ids(await page("?order=desc"))).toEqual([9, 7, 5, 3, 1]);
      expect(ids(await page("?order=desc"))).toEqual([9, 7, 5, 3, 1]);

      const mixed = [
        version(1, { status: 12, duration: 5, version_name: "b" }),
        version(2, { status: 10, duration: 9, version_name: "a" }),
        version(3, { status: 12, duration: 5, version_name: "c", version_desc: "x" }),
      ];
      sim.setVersions(mixed);
      expect(ids(await page("?sort_by=status&order=asc"))).toEqual([2, 1, 3]);
      expect(ids(await page("?sort_by=duration&order=desc"))).toEqual([2, 3, 1]);
      expect(ids(await page("?sort_by=job_name&order=asc"))).toEqual([2, 1, 3]);
      expect(ids(await page("?sort_by=job_desc&order=desc"))).toEqual([3, 2, 1]);
    });

    it("caps pages below the limit asked for, limit=0 included, so clients advance by what came back", async () => {
      const capped = await startSimulator({
        projectId: PROJECT,
        versions: data,
        auth: { tokens: [TOKEN] },
        pageCap: 7,
      });
      try {
        const get = async (query: string): Promise<Page> => {
          const url = `${capped.url}/v1/${PROJECT}/training-jobs/versions${query}`;
          return (await (await fetch(url, { headers: { "X-Auth-Token": TOKEN } })).json()) as Page;
        };
        const seen: unknown[] = [];
        for (let offset = 0; ; ) {
          const p = await get(`?offset=${offset}&limit=10`);
          expect(p.total_count).toBe(45);
          expect(p.limit).toBe(10);
          expect(p.versions.length).toBeLessThanOrEqual(7);
          if (p.versions.length === 0) break;
          seen.push(...ids(p));
          offset += p.versions.length;
        }
        expect(seen).toHaveLength(45);
        expect(new Set(seen).size).toBe(45);
        expect((await get("?limit=0")).versions).toHaveLength(7);
      } finally {
        await capped.close();
      }
    });

    it("answers bad query parameters with 400 ModelArts.0104", async () => {
      sim.setVersions(data);
      for (const query of [
        "?offset=-1",
        "?offset=abc",
        "?limit=1.5",
        "?limit=-5",
        "?limit=",
        "?sort_by=version_id",
        "?order=up",
        "?order=DESC",
        "?status=running",
        "?offset=99999999999999999999",
      ]) {
        const res = await listing(query);
        expect(res.status, query).toBe(400);
        expect(await res.json(), query).toMatchObject({
          is_success: false,
          error_code: "ModelArts.0104",
          error_message: expect.any(String),
        });
      }
    });

    it("serves records that are not objects or lack fields, for every sort, without crashing", async () => {
      const bad = [null, 42, "text", [1, 2], {}, { version_id: "x" }, { create_time: "12" }];
      sim.setVersions([...bad, version(5), version(6, { status: 3 })]);
      for (const sortBy of ["create_time", "job_desc", "status", "duration", "job_name"]) {
        for (const order of ["asc", "desc"]) {
          const p = await page(`?sort_by=${sortBy}&order=${order}&limit=0`);
          expect(p.total_count).toBe(9);
          expect(p.versions).toEqual(expect.arrayContaining(bad));
        }
      }
      expect(ids(await page("?status=3"))).toEqual([6]);
      sim.setVersions(data);
      expect((await page("")).total_count).toBe(45);
    });

    it("lets a hook change the versions between pages, as jobs created during a scan do", async () => {
      sim.setVersions(data);
      const calls: number[] = [];
      sim.onListing((state) => {
        calls.push(state.request);
        if (calls.length === 2) state.versions.push(version(9999));
      });
      const first = await page("?limit=5");
      const second = await page("?offset=5&limit=5");
      expect(first.total_count).toBe(45);
      expect(second.total_count).toBe(46);
      // The new job is the newest, so the second page starts one record earlier than before.
      expect(ids(second)[0]).toBe(ids(first)[4]);
      expect(calls[1]).toBe((calls[0] ?? 0) + 1);
    });

    it("pages through a generated month with every record exactly once", async () => {
      const month = generateWorkload({ versions: 1234, seed: 11, now: START });
      sim.setVersions(month);
      const seen = new Set<unknown>();
      for (let offset = 0; offset < 1234; offset += 100) {
        for (const id of ids(await page(`?offset=${offset}&limit=100&order=asc`))) seen.add(id);
      }
      expect(seen.size).toBe(1234);
    });
  });

  describe("routing", () => {
    it("answers unknown routes with a 404 JSON body", async () => {
      for (const path of [
        "/",
        "/v1/proj-1/training-jobs",
        "/v2/x",
        "//v1/proj-1/training-jobs/versions",
      ]) {
        const res = await fetch(`${sim.url}${path}`, { headers: { "X-Auth-Token": TOKEN } });
        expect(res.status, path).toBe(404);
        expect(res.headers.get("content-type")).toMatch(/application\/json/);
        expect(await res.json()).toMatchObject({ error_code: expect.any(String) });
      }
      const post = await fetch(`${sim.url}/v1/${PROJECT}/training-jobs/versions`, {
        method: "POST",
      });
      expect(post.status).toBe(404);
    });

    it("answers another project id with 404 and a ModelArts error", async () => {
      const res = await fetch(`${sim.url}/v1/other-project/training-jobs/versions`, {
        headers: { "X-Auth-Token": TOKEN },
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ is_success: false, error_code: "ModelArts.0104" });
    });

    it("puts an X-request-id on every answer, and rate-limit headers on listings", async () => {
      const answers = [
        await listing(""),
        await listing("", {}),
        await listing("?limit=x"),
        await fetch(`${sim.url}/nowhere`),
        await fetch(`${sim.url}/v3/auth/tokens`, { method: "POST", body: "{}" }),
      ];
      const requestIds = answers.map((res) => res.headers.get("x-request-id"));
      for (const rid of requestIds) expect(rid).toMatch(/^[0-9a-f]{32}$/);
      expect(new Set(requestIds).size).toBe(answers.length);
      expect(answers[0]?.headers.get("x-ratelimit")).toBe("1000");
      expect(answers[0]?.headers.get("x-ratelimit-used")).toMatch(/^\d+$/);
    });

    it("counts requests, listings, ListWorkspace and IAM calls", async () => {
      const before = { ...sim.requests };
      await listing("");
      await fetch(`${sim.url}/v3/auth/tokens`, { method: "POST", body: "{}" });
      await fetch(`${sim.url}/v1/${PROJECT}/workspaces`);
      await fetch(`${sim.url}/nowhere`);
      expect(sim.requests).toEqual({
        count: before.count + 4,
        listing: before.listing + 1,
        workspaces: before.workspaces + 1,
        iam: before.iam + 1,
      });
    });
  });

  describe("token authentication", () => {
    it("accepts a configured token", async () => {
      expect((await listing("")).status).toBe(200);
    });

    it("rejects an unknown token with 401 ModelArts.0203 in the documented body", async () => {
      const res = await listing("", { "X-Auth-Token": "nope" });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        is_success: false,
        error_code: "ModelArts.0203",
        error_message: "Invalid token",
      });
    });

    it("rejects a request without credentials with 401", async () => {
      const res = await listing("", {});
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ is_success: false, error_code: "ModelArts.0203" });
    });
  });

  describe("IAM", () => {
    const iamBody = (password: string, user = USER.username) =>
      JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: user, password, domain: { name: USER.domain } } },
          },
          scope: { project: { id: PROJECT } },
        },
      });
    const issue = (body: string) =>
      fetch(`${sim.url}/v3/auth/tokens`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });

    it("issues a 24-hour token in X-Subject-Token that the listing then accepts", async () => {
      const res = await issue(iamBody(USER.password));
      expect(res.status).toBe(201);
      const token = res.headers.get("x-subject-token");
      expect(token).toBeTruthy();
      const body = (await res.json()) as { token: { expires_at: string; issued_at: string } };
      expect(Date.parse(body.token.issued_at)).toBe(START);
      expect(Date.parse(body.token.expires_at)).toBe(START + 24 * 3_600_000);
      expect((await listing("", { "X-Auth-Token": token ?? "" })).status).toBe(200);
    });

    it("rejects an IAM token once it has expired", async () => {
      const token = (await issue(iamBody(USER.password))).headers.get("x-subject-token") ?? "";
      clock = START + 24 * 3_600_000 - 1;
      expect((await listing("", { "X-Auth-Token": token })).status).toBe(200);
      clock = START + 24 * 3_600_000;
      const res = await listing("", { "X-Auth-Token": token });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error_code: "ModelArts.0203" });
    });

    it("answers a wrong password or unknown user with IAM's 401 body", async () => {
      for (const body of [iamBody("wrong"), iamBody(USER.password, "mallory")]) {
        const res = await issue(body);
        expect(res.status).toBe(401);
        expect(res.headers.get("x-subject-token")).toBeNull();
        expect(await res.json()).toEqual({
          error: {
            code: 401,
            message: "The username or password is wrong.",
            title: "Unauthorized",
          },
        });
      }
    });

    it("answers a malformed body with 400", async () => {
      for (const body of [
        "not json",
        "{}",
        '{"auth":{"identity":{"methods":["token"]}}}',
        "null",
      ]) {
        const res = await issue(body);
        expect(res.status, body).toBe(400);
        expect(await res.json()).toMatchObject({ error: { code: 400 } });
      }
    });
  });

  describe("AK/SK signing", () => {
    /** `projectId: null` signs without X-Project-Id. */
    const signed = (
      url: URL,
      sk = SK,
      date = new Date(clock),
      projectId: string | null = PROJECT,
    ) =>
      signRequest(
        { method: "GET", url, headers: {}, body: "" },
        { ak: AK, sk, projectId: projectId ?? undefined },
        date,
      );
    const listingUrl = (query: string) =>
      new URL(`${sim.url}/v1/${PROJECT}/training-jobs/versions${query}`);

    it("accepts a correctly signed request", async () => {
      const url = listingUrl("?limit=5&order=asc&sort_by=create_time");
      const res = await fetch(url, { headers: signed(url) });
      expect(res.status).toBe(200);
    });

    it("requires a signed X-Project-Id of the project, as a subproject's APIs do", async () => {
      const url = listingUrl("?limit=5");
      const without = await fetch(url, { headers: signed(url, SK, new Date(clock), null) });
      expect(without.status).toBe(403);
      expect(await without.json()).toMatchObject({ error_code: "ModelArts.0206" });
      const other = await fetch(url, { headers: signed(url, SK, new Date(clock), "other") });
      expect(other.status).toBe(403);
      // Present but left out of SignedHeaders: added after signing.
      const unsigned = {
        ...signed(url, SK, new Date(clock), null),
        "X-Project-Id": PROJECT,
      };
      expect((await fetch(url, { headers: unsigned })).status).toBe(403);
    });

    it("rejects a tampered request with 403 ModelArts.0206", async () => {
      const url = listingUrl("?limit=5");
      const headers = signed(url);
      const res = await fetch(listingUrl("?limit=500"), { headers });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ is_success: false, error_code: "ModelArts.0206" });
    });

    it("rejects a wrong secret and a stale X-Sdk-Date", async () => {
      const url = listingUrl("");
      expect((await fetch(url, { headers: signed(url, "other-secret") })).status).toBe(403);
      const stale = signed(url, SK, new Date(clock - 20 * 60_000));
      expect((await fetch(url, { headers: stale })).status).toBe(403);
    });
  });

  describe("faults", () => {
    it("answers a queued status fault with the error body and Retry-After", async () => {
      sim.queueFaults(
        { kind: "status", status: 429, retryAfterSeconds: 3 },
        { kind: "status", status: 503 },
      );
      const throttled = await listing("");
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get("retry-after")).toBe("3");
      expect(await throttled.json()).toMatchObject({
        is_success: false,
        error_code: expect.any(String),
      });
      const unavailable = await listing("");
      expect(unavailable.status).toBe(503);
      expect(await unavailable.json()).toMatchObject({ is_success: false });
      expect((await listing("")).status).toBe(200);
    });

    it("answers is_success:false with HTTP 200", async () => {
      sim.queueFaults({ kind: "not-success", errorCode: "ModelArts.0105", errorMessage: "busy" });
      const res = await listing("");
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        is_success: false,
        error_code: "ModelArts.0105",
        error_message: "busy",
      });
    });

    it("truncates a body to half, with a matching Content-Length", async () => {
      sim.setVersions(Array.from({ length: 30 }, (_, i) => version(i + 1)));
      const full = await (await listing("")).text();
      sim.queueFaults({ kind: "truncate" });
      const res = await listing("");
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toBe(full.slice(0, Math.floor(Buffer.byteLength(full) / 2)));
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
    });

    it("can cut the connection mid-body instead", async () => {
      sim.queueFaults({ kind: "truncate", mode: "abort" });
      const res = await listing("");
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow();
    });

    it("answers a gateway HTML page instead of JSON", async () => {
      sim.queueFaults({ kind: "non-json" });
      const res = await listing("");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/text\/html/);
      await expect(res.clone().json()).rejects.toThrow();
      expect(await res.text()).toMatch(/Bad Gateway/);
    });

    it("never answers a hanging request, so the client's timeout must end it", async () => {
      sim.queueFaults({ kind: "hang" });
      const started = Date.now();
      await expect(
        fetch(`${sim.url}/v1/${PROJECT}/training-jobs/versions`, {
          headers: { "X-Auth-Token": TOKEN },
          signal: AbortSignal.timeout(300),
        }),
      ).rejects.toThrow();
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect((await listing("")).status).toBe(200);
    });

    it("resets the connection", async () => {
      sim.queueFaults({ kind: "reset" });
      await expect(listing("")).rejects.toThrow();
      expect((await listing("")).status).toBe(200);
    });

    it("applies faults only after authentication", async () => {
      sim.queueFaults({ kind: "status", status: 500 });
      expect((await listing("", { "X-Auth-Token": "nope" })).status).toBe(401);
      expect((await listing("")).status).toBe(500);
      expect((await listing("")).status).toBe(200);
    });
  });

  describe("random failures and latency", () => {
    async function statuses(seed: number, n: number): Promise<number[]> {
      const flaky = await startSimulator({
        projectId: PROJECT,
        versions: [version(1)],
        auth: { tokens: [TOKEN] },
        failureRate: 0.5,
        seed,
      });
      try {
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          const res = await fetch(`${flaky.url}/v1/${PROJECT}/training-jobs/versions`, {
            headers: { "X-Auth-Token": TOKEN },
          });
          out.push(res.status);
          if (res.status === 429) expect(res.headers.get("retry-after")).toBe("1");
          await res.arrayBuffer();
        }
        return out;
      } finally {
        await flaky.close();
      }
    }

    it("fails about the given fraction of listings with 429 or 5xx, the same way for the same seed", async () => {
      const a = await statuses(42, 60);
      expect(await statuses(42, 60)).toEqual(a);
      const failed = a.filter((s) => s !== 200);
      expect(failed.length).toBeGreaterThan(15);
      expect(failed.length).toBeLessThan(45);
      for (const s of failed) expect([429, 500, 502, 503]).toContain(s);
    });

    it("waits latencyMs before each listing answer", async () => {
      const slow = await startSimulator({
        projectId: PROJECT,
        versions: [],
        auth: { tokens: [TOKEN] },
        latencyMs: 150,
      });
      try {
        const started = performance.now();
        const res = await fetch(`${slow.url}/v1/${PROJECT}/training-jobs/versions`, {
          headers: { "X-Auth-Token": TOKEN },
        });
        expect(res.status).toBe(200);
        expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      } finally {
        await slow.close();
      }
    });

    it("closes promptly even with a request hanging", async () => {
      const other = await startSimulator({
        projectId: PROJECT,
        versions: [],
        auth: { tokens: [TOKEN] },
      });
      other.queueFaults({ kind: "hang" });
      const pending = fetch(`${other.url}/v1/${PROJECT}/training-jobs/versions`, {
        headers: { "X-Auth-Token": TOKEN },
      }).then(
        () => "answered",
        () => "failed",
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await other.close();
      expect(await pending).toBe("failed");
    });
  });
});

describe("ModelArts simulator: ListWorkspace", () => {
  const A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  const C = "cccccccccccccccccccccccccccccccc";
  const D = "dddddddddddddddddddddddddddddddd";
  let sim: Simulator;
  interface WorkspacesPage {
    total_count: number;
    count: number;
    workspaces: { id: string; name: string; [field: string]: unknown }[];
  }
  const get = (query = "", headers: Record<string, string> = { "X-Auth-Token": TOKEN }) =>
    fetch(`${sim.url}/v1/${PROJECT}/workspaces${query}`, { headers });
  const list = async (query: string): Promise<WorkspacesPage> => {
    const res = await get(query);
    expect(res.status).toBe(200);
    return (await res.json()) as WorkspacesPage;
  };
  const names = (page: WorkspacesPage) => page.workspaces.map((w) => w.name);

  beforeAll(async () => {
    sim = await startSimulator({
      projectId: PROJECT,
      versions: [
        version(1),
        { ...version(2), workspace_id: B },
        { ...version(3), workspace_id: D },
        { ...version(4), workspace_id: C },
      ],
      auth: { tokens: [TOKEN] },
      workspaces: [
        { id: "0", name: "default" },
        { id: B, name: "beta" },
        { id: A, name: "alpha" },
        { id: D, name: "delta", accessible: false },
        { id: C, name: "gamma", forbidden: true },
      ],
      workspacePageCap: 2,
    });
  });
  afterAll(() => sim.close());

  it("lists by name, descending by default, with every documented field", async () => {
    const first = await list("");
    expect(first.total_count).toBe(5);
    expect(first.count).toBe(2);
    expect(names(first)).toEqual(["gamma", "delta"]);
    expect(Object.keys(first.workspaces[0] ?? {}).sort()).toEqual(
      [
        "auth_type",
        "create_time",
        "description",
        "enterprise_project_id",
        "enterprise_project_name",
        "id",
        "name",
        "owner",
        "status",
        "status_info",
        "update_time",
      ].sort(),
    );
  });

  it("pages with offset and limit, capped at workspacePageCap", async () => {
    const pages = [await list("?order=asc&limit=10"), await list("?order=asc&offset=2&limit=10")];
    pages.push(await list("?order=asc&offset=4&limit=10"));
    expect(pages.map(names)).toEqual([["alpha", "beta"], ["default", "delta"], ["gamma"]]);
    expect(pages.map((p) => [p.total_count, p.count])).toEqual([
      [5, 2],
      [5, 2],
      [5, 1],
    ]);
    expect((await list("?offset=5")).workspaces).toEqual([]);
    expect(names(await list("?order=asc&limit=1"))).toEqual(["alpha"]);
  });

  it("lists only the accessible workspaces with filter_accessible=true", async () => {
    const all: string[] = [];
    for (let offset = 0; offset < 4; offset += 2) {
      const page = await list(`?filter_accessible=true&order=asc&offset=${offset}`);
      expect(page.total_count).toBe(4);
      all.push(...names(page));
    }
    expect(all).toEqual(["alpha", "beta", "default", "gamma"]);
  });

  it("matches name as a fuzzy, case-insensitive filter", async () => {
    const page = await list("?name=ET&order=asc");
    expect(names(page)).toEqual(["beta"]);
    expect(page.total_count).toBe(1);
  });

  it("refuses the versions listing of a forbidden or inaccessible workspace with 403 ModelArts.0108", async () => {
    for (const ws of [C, D]) {
      const res = await fetch(
        `${sim.url}/v1/${PROJECT}/training-jobs/versions?workspace_id=${ws}`,
        {
          headers: { "X-Auth-Token": TOKEN },
        },
      );
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ is_success: false, error_code: "ModelArts.0108" });
    }
    const allowed = await fetch(
      `${sim.url}/v1/${PROJECT}/training-jobs/versions?workspace_id=${B}`,
      {
        headers: { "X-Auth-Token": TOKEN },
      },
    );
    expect(ids((await allowed.json()) as Page)).toEqual([2]);
  });

  it("checks credentials and the project like the versions listing", async () => {
    const none = await get("", {});
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error_code: "ModelArts.0203" });
    const other = await fetch(`${sim.url}/v1/other-project/workspaces`, {
      headers: { "X-Auth-Token": TOKEN },
    });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error_code: "ModelArts.0104" });
  });

  it.each([
    ["?limit=0", 'limit must be an integer of at least 1, got "0"'],
    ["?sort_by=owner", 'sort_by must be one of name, update_time, status, got "owner"'],
    ["?filter_accessible=yes", 'filter_accessible must be true or false, got "yes"'],
  ])("answers %s with 400 ModelArts.0104", async (query, message) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      is_success: false,
      error_code: "ModelArts.0104",
      error_message: `Invalid parameter: ${message}`,
    });
  });

  it("answers queued workspace faults, leaving the versions listing alone", async () => {
    sim.queueWorkspaceFaults({ kind: "status", status: 503 }, { kind: "empty" });
    const versions = await fetch(`${sim.url}/v1/${PROJECT}/training-jobs/versions`, {
      headers: { "X-Auth-Token": TOKEN },
    });
    expect(versions.status).toBe(200);
    expect((await get("")).status).toBe(503);
    expect(await list("")).toEqual({ total_count: 5, count: 0, workspaces: [] });
    expect((await list("")).count).toBe(2);
  });

  it("rejects a workspace id given twice", async () => {
    await expect(
      startSimulator({
        projectId: PROJECT,
        versions: [],
        auth: {},
        workspaces: [
          { id: A, name: "a" },
          { id: A, name: "b" },
        ],
      }),
    ).rejects.toThrow(`workspace id ${A} is given twice`);
  });
});
