import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadReportConfig } from "../../src/app/config.js";
import { runConfiguredReport } from "../../src/app/run.js";
import { runReportCli } from "../../src/cli/report.js";
import { SourcesFailedError } from "../../src/shared/errors.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { readCsv } from "../helpers/csv.js";
import { localS3Env } from "../helpers/handlers.js";
import { startS3 } from "../helpers/s3.js";
import { cliIo } from "../helpers/sink.js";

/**
 * The organisation's run (report.md §10) end to end: REPORT_SOURCES with per-source
 * credentials, a `"*"` entry expanded through ListWorkspace, three listings on two endpoints
 * scanned at once, one report over their union — or, when any source fails, nothing at all.
 */

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const DATE = "2026-11-27";
const VISION = "5f3c9a1e7b2d4c6e8a0b1c2d3e4f5a6b";

let alpha: Simulator; // region A: project pa, workspaces "0" and Vision, token "ta"
let beta: Simulator; // region B: project pb, workspace "0", token "tb"
let dir: string;

const workload = (n: number, seed: number, workspace: string, idBase = 0) =>
  generateWorkload({ versions: n, seed, days: 3, now: NOW }).map((v) => ({
    ...v,
    version_id: v.version_id + idBase,
    workspace_id: workspace,
  }));

beforeAll(async () => {
  const alphaDefault = workload(300, 1, "0");
  alpha = await startSimulator({
    projectId: "pa",
    versions: [...alphaDefault, ...workload(200, 2, VISION, 1_000_000)],
    auth: { tokens: ["ta"] },
    workspaces: [
      { id: "0", name: "default" },
      { id: VISION, name: "Vision Team" },
    ],
    pageCap: 50,
    now: () => NOW,
  });
  // The same version ids as region A's default workspace: other versions (§10 identity).
  beta = await startSimulator({
    projectId: "pb",
    versions: workload(150, 3, "0").map((v, i) => ({
      ...v,
      version_id: alphaDefault[i]?.version_id ?? v.version_id,
    })),
    auth: { tokens: ["tb"] },
    pageCap: 50,
    now: () => NOW,
  });
  dir = await mkdtemp(join(tmpdir(), "org-run-"));
});
afterAll(async () => {
  await alpha.close();
  await beta.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  alpha.queueFaults();
  beta.queueFaults();
});

/** REPORT_SOURCES of the two regions; region A read with "*", region B with env:B. */
function sourcesEnv(extra: object[] = []) {
  return {
    REPORT_SOURCES: JSON.stringify([
      { name: "research", endpoint: alpha.url, project_id: "pa", workspace_id: "*" },
      { name: "eu-prod", endpoint: beta.url, project_id: "pb", credentials: "env:B" },
      ...extra,
    ]),
    MODELARTS_TOKEN: "ta",
    B_MODELARTS_TOKEN: "tb",
    MODELARTS_PAGE_SIZE: "50",
    MODELARTS_MAX_ATTEMPTS: "3",
  };
}

async function run(env: Record<string, string>, folder: string) {
  const store = new FileStore(join(dir, folder));
  const config = loadReportConfig(env);
  return {
    store,
    outcome: await runConfiguredReport(config, { dates: [DATE] }, { now: NOW, store }).catch(
      (e: unknown) => e,
    ),
  };
}

describe("an organisation's run", () => {
  it("reports the union of every workspace of two regions, each source on its own", async () => {
    const { store, outcome } = await run(sourcesEnv(), "whole");
    expect(outcome).not.toBeInstanceOf(Error);
    const json = JSON.parse((await store.get(`daily/${DATE}/report.json`))?.body.toString() ?? "");
    // Configuration order after expansion: research's workspaces in id order ("0" first).
    expect(json.sources.map((s: { name: string }) => s.name)).toEqual([
      "research.default",
      "research.vision-team",
      "eu-prod",
    ]);
    expect(json.sources[1]).toMatchObject({
      endpoint: alpha.url,
      project_id: "pa",
      workspace_id: VISION,
      total_count_first: 200,
      total_count_last: 200,
      versions_scanned: 200,
    });
    expect(json.source).toEqual({
      endpoint: null,
      project_id: null,
      workspace_id: null,
      pool_id: null,
      versions_scanned: 650,
      pages: json.sources.reduce((n: number, s: { pages: number }) => n + s.pages, 0),
    });
    // Every source has its row; hours and counts of the rows add up to the totals.
    expect(json.by_source).toHaveLength(3);
    const sum = (f: string) =>
      json.by_source.reduce((n: number, r: Record<string, number>) => n + (r[f] ?? 0), 0);
    expect(sum("versions_active")).toBe(json.totals.versions_active);
    expect(sum("gpu_hours")).toBeCloseTo(json.totals.gpu_hours, 5);
    expect(json.totals.peak_gpus).toBeLessThanOrEqual(sum("peak_gpus"));
    expect(json.totals.peak_gpus).toBeGreaterThanOrEqual(
      Math.max(...json.by_source.map((r: { peak_gpus: number }) => r.peak_gpus)),
    );
    expect(Object.keys(json.anomalies.by_source)).toEqual([
      "research.default",
      "research.vision-team",
      "eu-prod",
    ]);
    // jobs.csv: by source in configuration order, then id; the same id twice is two versions.
    const jobs = readCsv((await store.get(`daily/${DATE}/jobs.csv`))?.body.toString() ?? "");
    const header = jobs[0] ?? [];
    expect(header[header.length - 1]).toBe("source");
    const rows = jobs.slice(1).map((r) => ({ source: r[r.length - 1], id: Number(r[1]) }));
    const order = ["research.default", "research.vision-team", "eu-prod"];
    const sorted = [...rows].sort(
      (a, b) => order.indexOf(a.source ?? "") - order.indexOf(b.source ?? "") || a.id - b.id,
    );
    expect(rows).toEqual(sorted);
    expect(rows.length).toBe(json.totals.versions_active + countInactive(json));
    const sharedIds = rows.filter(
      (r) =>
        r.source === "eu-prod" &&
        rows.some((o) => o.source === "research.default" && o.id === r.id),
    );
    expect(sharedIds.length).toBeGreaterThan(0);
    // sources.csv: one row per by_source_flavor_pool entry, with the source after the date.
    const sources = readCsv((await store.get(`daily/${DATE}/sources.csv`))?.body.toString() ?? "");
    expect(sources[0]?.slice(0, 4)).toEqual(["report_date", "source", "flavor_code", "pool_id"]);
    expect(sources.length - 1).toBe(json.by_source_flavor_pool.length);
    const manifest = JSON.parse(
      (await store.get(`daily/${DATE}/manifest.json`))?.body.toString() ?? "",
    );
    expect(Object.keys(manifest.completeness.by_source)).toEqual(order);
    expect(manifest.completeness.complete).toBe(true);
    expect(manifest.files["sources.csv"].key).toBe(`daily/${DATE}/sources.csv`);
    // history.json keeps each source's totals for the 30-day view.
    const history = JSON.parse((await store.get("history.json"))?.body.toString() ?? "");
    const day = history.days.find((d: { date: string }) => d.date === DATE);
    expect(day.sources.map((s: { source: string }) => s.source)).toEqual(
      json.by_source.map((r: { source: string }) => r.source),
    );
    expect(day.sources[0].gpu_hours).toBe(json.by_source[0].gpu_hours);
  });

  it("retries a source's transient failures on its own and publishes", async () => {
    beta.queueFaults({ kind: "status", status: 503 }, { kind: "status", status: 503 });
    const before = alpha.requests.listing;
    const { store, outcome } = await run(sourcesEnv(), "transient");
    expect(outcome).not.toBeInstanceOf(Error);
    expect(await store.get(`daily/${DATE}/report.json`)).toBeDefined();
    // Region A was read once: 300 and 200 versions at 50 a page, one row shared by neighbours.
    expect(alpha.requests.listing - before).toBe(7 + 5);
  });

  it("fails as a whole, naming the source and why, when one source fails for good", async () => {
    const { outcome } = await run({ ...sourcesEnv(), B_MODELARTS_TOKEN: "wrong" }, "permanent");
    expect(outcome).toBeInstanceOf(SourcesFailedError);
    const message = (outcome as Error).message;
    expect(message).toMatch(
      /^the scan of 1 of 3 sources failed, so nothing was written: eu-prod: /,
    );
    expect(message).toContain("HTTP 401");
    expect(message).not.toContain("wrong");
    expect(await readdir(join(dir, "permanent")).catch(() => [])).toEqual([]);
  });

  it("names every source that failed", async () => {
    const { outcome } = await run(
      {
        ...sourcesEnv(),
        MODELARTS_TOKEN: "nope",
        REPORT_SOURCES: JSON.stringify([
          { name: "a", endpoint: alpha.url, project_id: "pa" },
          { name: "b", endpoint: beta.url, project_id: "pb", credentials: "env:B" },
          { name: "c", endpoint: alpha.url, project_id: "pa", workspace_id: VISION },
        ]),
      },
      "two-failed",
    );
    expect(outcome).toBeInstanceOf(SourcesFailedError);
    const failed = (outcome as SourcesFailedError).failures.map((f) => f.source);
    expect(failed).toEqual(["a", "c"]);
    expect((outcome as Error).message).toMatch(/2 of 3 sources failed.*a: .*; c: /);
  });

  it("fails naming a listed workspace whose listing is refused, and the permission", async () => {
    const forbidden = await startSimulator({
      projectId: "pf",
      versions: workload(20, 4, "0"),
      auth: { tokens: ["tf"] },
      workspaces: [
        { id: "0", name: "default" },
        { id: "ab12", name: "Secret Lab", forbidden: true },
      ],
      now: () => NOW,
    });
    try {
      const { outcome } = await run(
        {
          REPORT_SOURCES: JSON.stringify([
            { name: "lab", endpoint: forbidden.url, project_id: "pf", workspace_id: "*" },
          ]),
          MODELARTS_TOKEN: "tf",
        },
        "forbidden",
      );
      expect(outcome).toBeInstanceOf(SourcesFailedError);
      const message = (outcome as Error).message;
      expect(message).toContain("lab.secret-lab: ");
      expect(message).toContain("workspace ab12");
      expect(message).toContain("modelarts:trainJob:list");
    } finally {
      await forbidden.close();
    }
  });

  it("names collisions after lower-casing by workspace id", async () => {
    const twins = await startSimulator({
      projectId: "pt",
      versions: [...workload(10, 5, "aa01"), ...workload(10, 6, "bb02", 1_000_000)],
      auth: { tokens: ["tt"] },
      workspaces: [
        { id: "0", name: "default" },
        { id: "aa01", name: "Team A" },
        { id: "bb02", name: "team-a" },
      ],
      now: () => NOW,
    });
    try {
      const { store, outcome } = await run(
        {
          REPORT_SOURCES: JSON.stringify([
            { name: "t", endpoint: twins.url, project_id: "pt", workspace_id: "*" },
          ]),
          MODELARTS_TOKEN: "tt",
        },
        "twins",
      );
      expect(outcome).not.toBeInstanceOf(Error);
      const json = JSON.parse(
        (await store.get(`daily/${DATE}/report.json`))?.body.toString() ?? "",
      );
      expect(json.sources.map((s: { name: string }) => s.name)).toEqual([
        "t.default",
        "t.aa01",
        "t.bb02",
      ]);
      // The default workspace holds nothing: a source with no versions is complete.
      expect(json.sources[0].total_count_first).toBe(0);
      expect(
        json.by_source.find((r: { source: string }) => r.source === "t.default"),
      ).toMatchObject({ versions_active: 0, gpu_hours: 0, peak_gpus: 0 });
    } finally {
      await twins.close();
    }
  });

  it("refuses, before any scan, a workspace that two entries read", async () => {
    const before = alpha.requests.listing;
    const { outcome } = await run(
      sourcesEnv([{ name: "vision", endpoint: alpha.url, project_id: "pa", workspace_id: VISION }]),
      "overlap",
    );
    expect((outcome as Error).message).toMatch(
      /the sources after workspace expansion: "research.vision-team" and "vision" name the same listing/,
    );
    expect(alpha.requests.listing).toBe(before);
  });

  it("exits 2 on the command line for a bad REPORT_SOURCES, naming the entry", async () => {
    const io = cliIo(
      {
        ...sourcesEnv(),
        REPORT_SOURCES: JSON.stringify([
          { name: "ok", endpoint: alpha.url, project_id: "pa" },
          { name: "Bad_Name", endpoint: beta.url, project_id: "pb" },
        ]),
      },
      NOW,
      dir,
    );
    expect(await runReportCli(["--date", DATE], io)).toBe(2);
    expect(io.stderr.text).toContain('REPORT_SOURCES entry 2: name "Bad_Name" must be');
  });

  it("reads REPORT_SOURCES from an s3:// document, as deployed", async () => {
    const s3 = await startS3();
    try {
      await s3.createBucket("config-bucket");
      await s3.client.send(
        new PutObjectCommand({
          Bucket: "config-bucket",
          Key: "config/sources.json",
          Body: sourcesEnv().REPORT_SOURCES,
        }),
      );
      for (const [name, value] of Object.entries(localS3Env(s3.endpoint))) vi.stubEnv(name, value);
      const { store, outcome } = await run(
        { ...sourcesEnv(), REPORT_SOURCES: "s3://config-bucket/config/sources.json" },
        "s3-document",
      );
      expect(outcome).not.toBeInstanceOf(Error);
      const json = JSON.parse(
        (await store.get(`daily/${DATE}/report.json`))?.body.toString() ?? "",
      );
      expect(json.sources.map((x: { name: string }) => x.name)).toEqual([
        "research.default",
        "research.vision-team",
        "eu-prod",
      ]);
      const missing = await run(
        { ...sourcesEnv(), REPORT_SOURCES: "s3://config-bucket/config/none.json" },
        "s3-missing",
      );
      expect((missing.outcome as Error).message).toBe(
        "REPORT_SOURCES s3://config-bucket/config/none.json could not be read from S3",
      );
    } finally {
      vi.unstubAllEnvs();
      await s3.close();
    }
  });

  it("reads REPORT_SOURCES from a file:// document", async () => {
    const { writeFile } = await import("node:fs/promises");
    const path = join(dir, "sources.json");
    await writeFile(path, JSON.parse(JSON.stringify(sourcesEnv().REPORT_SOURCES)));
    const { store, outcome } = await run(
      { ...sourcesEnv(), REPORT_SOURCES: `file://${path}` },
      "document",
    );
    expect(outcome).not.toBeInstanceOf(Error);
    const json = JSON.parse((await store.get(`daily/${DATE}/report.json`))?.body.toString() ?? "");
    expect(json.sources).toHaveLength(3);
    expect(await readFile(path, "utf8")).toContain("research");
  });
});

/** Versions in jobs.csv that are not active in the window: created or failed only. */
function countInactive(json: {
  statuses: { versions: number }[];
  totals: { versions_active: number };
}) {
  return json.statuses.reduce((n, s) => n + s.versions, 0) - json.totals.versions_active;
}
