import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import type { RetryPolicy } from "../../src/modelarts/retry.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload, type RawVersion } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { type OneSourceJobOptions, runOneSource } from "../helpers/one-source.js";

/**
 * §4 and §9: a version listed at two or more positions of one listing is one version in the
 * report and each extra row is a duplicate row; the listing is complete when every row was
 * read, however the page edges cut the runs of copies. (Before: every such run failed with
 * "the scan read 519 records, but the listing counted at least 522 throughout".)
 */

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const DATE = "2026-11-27";
const PROJECT = "p-dup";
const FAST: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 5_000 };

/** 519 distinct versions in the order the listing shows them (create_time, then id). */
const distinct = generateWorkload({ versions: 519, seed: 23, now: NOW, days: 3 }).sort(
  (a, b) => a.create_time - b.create_time || a.version_id - b.version_id,
);

interface Layout {
  /** The listing as served, in the order the simulator sorts it. */
  records: unknown[];
  /** Rows beyond the first of each version. */
  extraRows: number;
  /** Id-less records, each a bad record of its own. */
  idless: number;
}

/**
 * The listing with runs of copies starting one row before a row `at` (in the listing as
 * served), so a run at a page edge has copies on both pages. For pages of `size` records that
 * share one with their neighbour, edges fall every `size - 1` rows.
 */
function layout(runs: readonly { at: number; copies: number; idless?: boolean }[]): Layout {
  const records: unknown[] = [...distinct];
  let extraRows = 0;
  let idless = 0;
  for (const run of runs) {
    const first = run.at - 1;
    const original = records[first] as RawVersion;
    if (run.idless === true) {
      // Identical records without a version_id, sharing this version's create_time: the
      // simulator sorts them just before it.
      const copy = { version_name: "lost-id", status: 10, create_time: original.create_time };
      records.splice(first, 0, ...Array.from({ length: run.copies }, () => ({ ...copy })));
      idless += run.copies;
    } else {
      records.splice(
        first + 1,
        0,
        ...Array.from({ length: run.copies - 1 }, () => ({ ...original })),
      );
      extraRows += run.copies - 1;
    }
  }
  return { records, extraRows, idless };
}

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({ projectId: PROJECT, versions: distinct, auth: { tokens: ["t"] } });
  dir = await mkdtemp(join(tmpdir(), "dup-rows-"));
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const client = () =>
  new ModelArtsClient({
    endpoint: sim.url,
    projectId: PROJECT,
    auth: staticTokenAuth("t"),
    retry: FAST,
  });
const options = (pageSize: number, concurrency: number): OneSourceJobOptions => ({
  dates: [DATE],
  timeZone: "UTC",
  failureStatuses: [3, 5, 6, 13],
  now: NOW,
  pageSize,
  concurrency,
  sourceInfo: { endpoint: "sim", projectId: PROJECT, workspaceId: null, poolId: null },
});
let roots = 0;

async function report(records: readonly unknown[], pageSize: number, concurrency: number) {
  sim.setVersions(records);
  const store = new FileStore(join(dir, `root-${++roots}`));
  const result = await runOneSource({ versions: client(), store }, options(pageSize, concurrency));
  const text = (await store.get(`daily/${DATE}/report.json`))?.body.toString() ?? "";
  const json = JSON.parse(text) as Record<string, unknown>;
  delete json.generated_at;
  const jobs = (await store.get(`daily/${DATE}/jobs.csv`))?.body.toString() ?? "";
  const manifest = JSON.parse(
    (await store.get(`daily/${DATE}/manifest.json`))?.body.toString() ?? "{}",
  ) as { completeness: unknown };
  return { result, json, jobs, manifest };
}

/** What the listing holds, as served: every row in order, read at once. */
async function served(): Promise<unknown[]> {
  const res = await fetch(
    `${sim.url}/v1/${PROJECT}/training-jobs/versions?offset=0&limit=0&sort_by=create_time&order=asc`,
    { headers: { "X-Auth-Token": "t" } },
  );
  const body = (await res.json()) as { versions: unknown[] };
  return body.versions;
}

describe("a listing with duplicate rows", () => {
  for (const size of [7, 200]) {
    for (const concurrency of [1, 10]) {
      it(`publishes the exact report, pages of ${size}, concurrency ${concurrency}`, async () => {
        const reference = await report(distinct, size, concurrency);
        const edge = size - 1;
        const { records, extraRows } = layout([
          { at: edge, copies: 3 },
          { at: 2 * edge, copies: 2 },
          { at: 450, copies: 3 },
        ]);
        expect(records).toHaveLength(519 + 5);
        // The runs straddle page edges as served (the test would prove nothing otherwise).
        sim.setVersions(records);
        const rows = await served();
        const idAt = (i: number) => (rows[i] as { version_id?: number }).version_id;
        expect(idAt(edge - 1)).toBe(idAt(edge));
        expect(idAt(edge)).toBe(idAt(edge + 1));
        expect(idAt(2 * edge - 1)).toBe(idAt(2 * edge));
        const got = await report(records, size, concurrency);
        expect(got.result.scan.recordsRead).toBe(524);
        expect(got.result.scan.versionsScanned).toBe(519);
        expect(got.json.anomalies).toEqual({
          skipped: 0,
          duplicate_rows: extraRows,
          reasons: {},
          unpriced_flavors: [],
          by_source: { default: { skipped: 0, duplicate_rows: extraRows } },
        });
        expect(extraRows).toBe(5);
        // Everything else is the report of the listing without the extra rows, but the pages:
        // an edge inside a run of copies costs a few pages stepped back to link across it.
        const pages = (r: typeof got) => (r.json.source as { pages: number }).pages;
        expect(pages(got)).toBeGreaterThanOrEqual(pages(reference));
        expect(pages(got)).toBeLessThanOrEqual(pages(reference) + 3 * 3);
        const rest = (r: typeof got) => ({
          ...r.json,
          anomalies: null,
          source: { ...(r.json.source as object), pages: null },
          sources: null,
        });
        expect(rest(got)).toEqual(rest(reference));
        expect(got.jobs).toBe(reference.jobs);
        expect(got.manifest.completeness).toEqual({
          total_count_first: 524,
          total_count_last: 524,
          versions_scanned: 524,
          complete: true,
          by_source: {
            default: {
              total_count_first: 524,
              total_count_last: 524,
              versions_scanned: 524,
              complete: true,
            },
          },
        });
      });
    }
  }

  it("counts identical id-less records split across a page edge as the records they are", async () => {
    // Before: the run could count such a run short and fail every day.
    for (const concurrency of [1, 10]) {
      const { records, idless } = layout([{ at: 6, idless: true, copies: 4 }]);
      const got = await report(records, 7, concurrency);
      expect(idless).toBe(4);
      expect(got.result.scan.recordsRead).toBe(523);
      expect(got.json.anomalies).toEqual({
        skipped: 4,
        duplicate_rows: 0,
        reasons: { "version_id: missing": 4 },
        unpriced_flavors: [],
        by_source: { default: { skipped: 4, duplicate_rows: 0 } },
      });
    }
  });

  it("keeps one version for a version listed at two far apart positions", async () => {
    // The same version once among the first rows and again near the end (the listing's sort
    // does not have to put copies side by side): pages of 7, ten planned pages between them.
    const far = distinct[3] as RawVersion;
    const records = [
      ...distinct,
      { ...far, create_time: (distinct[500] as RawVersion).create_time },
    ];
    const got = await report(records, 7, 4);
    expect(got.result.scan.recordsRead).toBe(520);
    expect(got.result.scan.versionsScanned).toBe(519);
    expect((got.json.anomalies as { duplicate_rows: number }).duplicate_rows).toBe(1);
  });
});
