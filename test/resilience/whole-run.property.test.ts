import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderFiles } from "../../src/app/report-job.js";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import { type JobVersion, parseVersionRecord } from "../../src/modelarts/version-record.js";
import { buildDailyReports } from "../../src/report/build.js";
import type { Anomalies } from "../../src/report/types.js";
import { IncompleteScanError, UpstreamError } from "../../src/shared/errors.js";
import {
  type Fault,
  type ListingState,
  type Simulator,
  startSimulator,
} from "../../src/simulator/server.js";
import { generateWorkload, mulberry32, type RawVersion } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { runOneSource, withOneSource } from "../helpers/one-source.js";

/**
 * The whole run, under everything at once: random faults per request (empty pages, truncated
 * and cut-off bodies, 5xx, 429 with good and bad Retry-After, resets, hangs), versions
 * created and deleted between pages, concurrency 1 to 16, and malformed and id-less records.
 * Every outcome is either exactly the report of the versions present during the whole scan,
 * or a failed run that published nothing. Never a published report that differs.
 *
 * CI runs it with a fixed seed; `WHOLE_RUN_RUNS=500 WHOLE_RUN_SEED=<n> npm run test:property`
 * runs more.
 */

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const DATE = "2026-11-27";
const DAY = 86_400_000;
const RUNS = Number(process.env.WHOLE_RUN_RUNS ?? 40);
const SEED = Number(process.env.WHOLE_RUN_SEED ?? 20261202);
const FAILURES = [3, 5, 6, 13];

let dir: string;
let sim: Simulator;
/** What the current run's simulator does per request; set by each run. */
let schedule: { faultFor: (n: number) => Fault | undefined; churn: (s: ListingState) => void };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "whole-run-"));
  sim = await startSimulator({
    projectId: "p",
    versions: [],
    auth: { tokens: ["t"] },
    pageCap: 40,
    faultFor: ({ request }) => schedule.faultFor(request),
  });
  sim.onListing((state) => schedule.churn(state));
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

/** A valid version that is in no report of DATE: created outside the window, never ran. */
function bystander(id: number, createTime: number): RawVersion {
  return {
    version_id: id,
    version_name: `bystander-${id}`,
    status: 12,
    create_time: createTime,
    start_time: 0,
    end_time: 0,
    duration: 0,
    version_desc: null,
    pool_id: null,
    flavor_code: "modelarts.vm.cpu.2u",
    gpu_num: 0,
    npu_num: 0,
  } as RawVersion;
}

const FAULTS: Fault[] = [
  { kind: "empty" },
  { kind: "truncate" },
  { kind: "truncate", mode: "abort" },
  { kind: "status", status: 500 },
  { kind: "status", status: 503 },
  { kind: "status", status: 429, retryAfter: "0" },
  { kind: "status", status: 429, retryAfter: "1.5" },
  { kind: "status", status: 429, retryAfter: "-1" },
  { kind: "reset" },
  { kind: "hang" },
  { kind: "non-json" },
];

const scenario = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  versions: fc.integer({ min: 80, max: 400 }),
  malformed: fc.integer({ min: 0, max: 12 }),
  idless: fc.integer({ min: 0, max: 90 }),
  duplicates: fc.integer({ min: 0, max: 8 }),
  bystanders: fc.integer({ min: 0, max: 60 }),
  faultRate: fc.constantFrom(0, 0.05, 0.2, 0.5),
  deletesPerPage: fc.integer({ min: 0, max: 4 }),
  createsPerPage: fc.integer({ min: 0, max: 4 }),
  concurrency: fc.integer({ min: 1, max: 16 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** The listing at the start, and which of its records stay for the whole scan. */
function listing(s: Scenario) {
  const rng = mulberry32(s.seed);
  const base = generateWorkload({ versions: s.versions, seed: s.seed, now: NOW, days: 4 });
  const records: unknown[] = [...base];
  const insert = (record: unknown) =>
    records.splice(Math.floor(rng() * (records.length + 1)), 0, record);
  for (let i = 0; i < s.malformed; i++) {
    const v = base[Math.floor(rng() * base.length)] as RawVersion;
    insert({ ...v, version_id: 8_000_000 + i, start_time: "soon" });
  }
  // Versions listed twice or more (duplicate rows, §4): the simulator sorts copies side by side.
  for (let i = 0; i < s.duplicates; i++) {
    insert({ ...(base[Math.floor(rng() * base.length)] as RawVersion) });
  }
  // Id-less records in one run, as a page or two of them would come.
  const at = Math.floor(rng() * records.length);
  records.splice(
    at,
    0,
    ...Array.from({ length: s.idless }, (_, i) => ({ version_name: `no-id-${i}`, status: 10 })),
  );
  const stable = [...records];
  // Bystanders may be deleted during the scan: they are in no report, so the report does not
  // depend on whether the scan saw them, but deleting them shifts every later record.
  const bystanders: RawVersion[] = [];
  for (let i = 0; i < s.bystanders; i++) {
    const b = bystander(9_000_000 + i, NOW - 10 * DAY + Math.floor(rng() * 3 * DAY));
    bystanders.push(b);
    insert(b);
  }
  // Sorted as the simulator sorts them (create_time, then id); id-less records have neither.
  return { records, stable, bystanders, rng };
}

/** The report a correct run must publish: from the stable records alone. */
function reference(stable: readonly unknown[]) {
  const versions = new Map<number, JobVersion>();
  const bad = new Map<string, string>();
  let duplicateRows = 0;
  for (const record of stable) {
    const parsed = parseVersionRecord(record);
    if (!parsed.ok) bad.set(JSON.stringify(record), parsed.reason);
    else if (versions.has(parsed.version.versionId)) duplicateRows++;
    else versions.set(parsed.version.versionId, parsed.version);
  }
  const reasons: Record<string, number> = {};
  for (const reason of [...bad.values()].sort()) reasons[reason] = (reasons[reason] ?? 0) + 1;
  const anomalies: Anomalies = { skipped: bad.size, duplicate_rows: duplicateRows, reasons };
  return { versions: [...versions.values()], anomalies };
}

async function runOnce(s: Scenario): Promise<"published" | "failed"> {
  const { records, stable, bystanders, rng } = listing(s);
  sim.setVersions(records);
  const alive = new Set(bystanders.map((b) => b.version_id));
  let created = 0;
  schedule = {
    faultFor: () => (rng() < s.faultRate ? FAULTS[Math.floor(rng() * FAULTS.length)] : undefined),
    churn: ({ versions }) => {
      for (let d = 0; d < s.deletesPerPage && alive.size > 0; d++) {
        const ids = [...alive];
        const id = ids[Math.floor(rng() * ids.length)] as number;
        alive.delete(id);
        const index = versions.findIndex(
          (v) => typeof v === "object" && v !== null && (v as RawVersion).version_id === id,
        );
        if (index >= 0) versions.splice(index, 1);
      }
      // New versions land at the end (create_time now, after the window): in no report.
      for (let c = 0; c < s.createsPerPage; c++) {
        versions.push(bystander(9_500_000 + created++, NOW + created));
      }
    },
  };
  const store = new FileStore(join(dir, `run-${s.seed}-${Math.random().toString(36).slice(2)}`));
  const before = '{"report_date":"2026-11-20","generated_at":"x","files":{}}\n';
  await store.put("latest.json", before, "application/json");
  const client = new ModelArtsClient({
    endpoint: sim.url,
    projectId: "p",
    auth: staticTokenAuth("t"),
    timeoutMs: 150,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4, budgetMs: 10_000 },
  });
  const options = {
    dates: [DATE],
    timeZone: "UTC",
    failureStatuses: FAILURES,
    now: NOW,
    pageSize: 40,
    concurrency: s.concurrency,
    sourceInfo: { endpoint: "sim", projectId: "p", workspaceId: null, poolId: null },
  };
  const outcome = await runOneSource({ versions: client, store }, options).catch((e: unknown) => e);
  if (outcome instanceof Error) {
    // A failed run: one of ours, and nothing published.
    expect(
      outcome instanceof UpstreamError || outcome instanceof IncompleteScanError,
      String(outcome),
    ).toBe(true);
    expect((await store.get("latest.json"))?.body.toString()).toBe(before);
    expect(await readdir(join(store.url.slice("file://".length)))).toEqual(["latest.json"]);
    return "failed";
  }
  if (!("reports" in (outcome as object))) throw new Error("no outcome");
  const ref = reference(stable);
  const [expected] = buildDailyReports(
    withOneSource({
      versions: ref.versions,
      dates: [DATE],
      timeZone: "UTC",
      now: NOW,
      failureStatuses: FAILURES,
      source: {
        endpoint: "sim",
        project_id: "p",
        workspace_id: null,
        pool_id: null,
        versions_scanned: 0,
        pages: 0,
      },
      anomalies: ref.anomalies,
    }),
  );
  if (expected === undefined) throw new Error("no reference report");
  const want = renderFiles(expected);
  const got = async (name: string) =>
    (await store.get(`daily/${DATE}/${name}`))?.body.toString() ?? "";
  expect(await got("usage.csv")).toBe(want["usage.csv"]);
  expect(await got("jobs.csv")).toBe(want["jobs.csv"]);
  expect(await got("sources.csv")).toBe(want["sources.csv"]);
  const published = JSON.parse(await got("report.json"));
  const wanted = JSON.parse(want["report.json"]);
  // The scan's own counters depend on how many bystanders it happened to see.
  for (const r of [published, wanted]) {
    r.source = { ...r.source, versions_scanned: 0, pages: 0 };
    r.sources = r.sources.map((s: object) => ({
      ...s,
      versions_scanned: 0,
      pages: 0,
      total_count_first: 0,
      total_count_last: 0,
    }));
  }
  expect(published).toEqual(wanted);
  expect(JSON.parse((await store.get("latest.json"))?.body.toString() ?? "")).toMatchObject({
    report_date: DATE,
  });
  return "published";
}

describe("a whole run under faults, churn and bad records", () => {
  it("publishes exactly the reference report, or fails and publishes nothing", async () => {
    const outcomes = { published: 0, failed: 0 };
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        try {
          outcomes[await runOnce(s)] += 1;
        } finally {
          schedule = { faultFor: () => undefined, churn: () => {} };
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    process.stderr.write(
      `whole-run property: ${outcomes.published} published, ${outcomes.failed} failed\n`,
    );
    // Both outcomes were met, so neither branch of the property went untested.
    if (RUNS >= 20) {
      expect(outcomes.published).toBeGreaterThan(0);
      expect(outcomes.failed).toBeGreaterThan(0);
    }
  }, 600_000);
});
