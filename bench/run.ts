import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { build } from "esbuild";
import { runReportJob } from "../src/lib/job.js";
import { staticTokenAuth } from "../src/lib/modelarts/auth.js";
import { ModelArtsClient } from "../src/lib/modelarts/client.js";
import type { JobVersion } from "../src/lib/modelarts/version-record.js";
import { aggregate } from "../src/lib/report/aggregate.js";
import { dayWindows } from "../src/lib/report/build.js";
import { addDays, lastEndedMonth, yesterday } from "../src/lib/report/time.js";
import { scanVersions } from "../src/lib/scan.js";
import { FileStore } from "../src/lib/storage/file-store.js";
import { DEMO_CREDENTIALS } from "../src/simulator/demo.js";
import { mulberry32 } from "../src/simulator/workload.js";
import { type SimProcess, startSimProcess } from "./sim-process.js";

/**
 * `npm run bench -- [--versions 100000] [--latency 50] [--concurrency 8] [--page-cap 100]
 * [--seed 7] [--agg-versions N] [--rss-versions N]`
 *
 * Prints numbers, never pass/fail: the scan against an out-of-process simulator at the given
 * latency (at the chosen concurrency and at 1), its lower bound, a 1-day and a 92-day report,
 * pure aggregation of many versions over 92 days, and the peak RSS of a large 1-day run.
 */

const { values } = parseArgs({
  options: {
    versions: { type: "string", default: "100000" },
    latency: { type: "string", default: "50" },
    concurrency: { type: "string", default: "8" },
    "page-cap": { type: "string", default: "100" },
    seed: { type: "string", default: "7" },
    "agg-versions": { type: "string" },
    "rss-versions": { type: "string" },
  },
  strict: true,
});
const int = (name: string, raw: string | undefined): number => {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`error: --${name} "${raw}" is not a whole number\n`);
    process.exit(2);
  }
  return n;
};
const N = int("versions", values.versions);
const LATENCY = int("latency", values.latency);
const CONCURRENCY = Math.max(1, int("concurrency", values.concurrency));
const PAGE_CAP = Math.max(1, int("page-cap", values["page-cap"]));
const SEED = int("seed", values.seed);
const AGG_N = int("agg-versions", values["agg-versions"] ?? String(N * 10));
const RSS_N = int("rss-versions", values["rss-versions"] ?? String(N * 10));
const DAYS = 730; // two years of history

const rows: [string, string][] = [];
const row = (label: string, value: string) => {
  rows.push([label, value]);
  process.stdout.write(`${label.padEnd(48)} ${value}\n`);
};
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function client(url: string) {
  return new ModelArtsClient({
    endpoint: url,
    projectId: DEMO_CREDENTIALS.projectId,
    auth: staticTokenAuth(DEMO_CREDENTIALS.token),
  });
}

async function timeScan(url: string, concurrency: number) {
  const started = performance.now();
  const result = await scanVersions(client(url), { pageSize: 100, concurrency, keep: () => false });
  return { ms: performance.now() - started, pages: result.pages, versions: result.versionsScanned };
}

async function withSim<T>(
  latencyMs: number,
  versions: number,
  fn: (sim: SimProcess) => Promise<T>,
) {
  const sim = await startSimProcess({
    versions,
    latencyMs,
    pageCap: PAGE_CAP,
    seed: SEED,
    days: DAYS,
  });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

/**
 * JobVersion objects like a busy project's, generated fast and in-process: created over
 * `spanDays`, most started within the hour and run minutes to days; a job whose run reaches
 * past `end` is still running, the others ended in one of the terminal statuses.
 */
function syntheticVersions(count: number, end: number, spanDays: number): JobVersion[] {
  const rng = mulberry32(SEED);
  const flavors = ["gpu.p1", "gpu.p3.4", "gpu.p3.8", "npu.910b", "cpu.8u", null];
  const pools = ["pool-a", "pool-b", "pool-c", null];
  const ended = [10, 10, 10, 10, 11, 12, 13, 3];
  const versions: JobVersion[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const create = end - Math.floor(rng() * spanDays * 86_400_000);
    const start = rng() < 0.95 ? create + Math.floor(rng() * 3_600_000) : 0;
    const run = Math.floor(rng() ** 3 * 3 * 86_400_000);
    const running = start > 0 && start + run > end;
    const flavor = flavors[i % flavors.length] ?? null;
    versions[i] = {
      versionId: i + 1,
      versionName: null,
      status: running ? 8 : start === 0 ? 5 : (ended[i % ended.length] as number),
      createTime: create,
      startTime: start,
      endTime: start > 0 && !running ? start + run : 0,
      duration: 0,
      flavorCode: flavor,
      poolId: pools[i % pools.length] ?? null,
      gpuNum: flavor?.startsWith("gpu") ? 1 + (i % 8) : 0,
      npuNum: flavor?.startsWith("npu") ? 8 : 0,
    };
  }
  return versions;
}

const now = Date.now();
const lastDay = yesterday(now, "UTC");
process.stdout.write(
  `bench: ${fmt(N)} versions over ${DAYS} days, ${LATENCY} ms latency, page cap ${PAGE_CAP}, concurrency ${CONCURRENCY}; node ${process.version}\n\n`,
);

// Pure aggregation of many versions over 92 days, first (a fresh heap), three times: the
// median and the range (generation not timed).
{
  const windows = dayWindows(
    Array.from({ length: 92 }, (_, i) => addDays(lastDay, i - 91)),
    "UTC",
  );
  const end = (windows[windows.length - 1] as { end: number }).end;
  const versions = syntheticVersions(AGG_N, end, 120);
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    aggregate({ versions, windows, now, failureStatuses: [3, 5, 6, 13] });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  row(
    `aggregate: ${fmt(AGG_N)} versions, 92 days`,
    `${fmt(times[1] as number)} ms median (${fmt(times[0] as number)}–${fmt(times[2] as number)})`,
  );
}

// 1. The scan: at latency, at concurrency C and 1; and at zero latency for the bound.
// The first pass warms up the JIT and the simulator's sorted listing; the second is timed.
const zero = await withSim(0, N, async (sim) => {
  await timeScan(sim.url, CONCURRENCY);
  return timeScan(sim.url, CONCURRENCY);
});
const [atC, at1, day1, day92] = await withSim(LATENCY, N, async (sim) => {
  await timeScan(sim.url, CONCURRENCY); // warm-up
  const c = await timeScan(sim.url, CONCURRENCY);
  const one = await timeScan(sim.url, 1);
  const dir = await mkdtemp(join(tmpdir(), "bench-"));
  try {
    const report = async (dates: string[]) => {
      const started = performance.now();
      await runReportJob(
        { versions: client(sim.url), store: new FileStore(dir) },
        {
          dates,
          timeZone: "UTC",
          failureStatuses: [3, 5, 6, 13],
          now,
          pageSize: 100,
          concurrency: CONCURRENCY,
          sourceInfo: {
            endpoint: "bench",
            projectId: "demo-project",
            workspaceId: null,
            poolId: null,
          },
        },
      );
      return performance.now() - started;
    };
    const d1 = await report([lastDay]);
    const d92 = await report(Array.from({ length: 92 }, (_, i) => addDays(lastDay, i - 91)));
    return [c, one, d1, d92] as const;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
const bound = Math.max(Math.ceil(atC.pages / CONCURRENCY) * LATENCY, zero.ms);
row("scan: versions read", fmt(atC.versions));
row("scan: pages (with overlap)", fmt(atC.pages));
row(`scan: wall time at concurrency ${CONCURRENCY}`, `${fmt(atC.ms)} ms`);
row("scan: versions/s", fmt((atC.versions / atC.ms) * 1000));
row("scan: same scan at zero latency", `${fmt(zero.ms)} ms`);
row("scan: lower bound max(ceil(pages/C)×latency, zero-latency)", `${fmt(bound)} ms`);
row("scan: wall time / lower bound", `${fmt(atC.ms / bound, 2)}×`);
row("scan: wall time at concurrency 1", `${fmt(at1.ms)} ms`);
row(`scan: speed-up of concurrency ${CONCURRENCY} over 1`, `${fmt(at1.ms / atC.ms, 2)}×`);
row("report: 1 day (scan + aggregate + write)", `${fmt(day1)} ms`);
row("report: 92 days from one scan", `${fmt(day92)} ms`);

// 3. Peak RSS of a 1-day report over many scanned versions, in a fresh process running a
// bundle built like the Lambda's (esbuild, no TypeScript loader in memory).
{
  const run = promisify(execFile);
  const bundleDir = await mkdtemp(join(tmpdir(), "bench-bundle-"));
  const child = join(bundleDir, "rss-child.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./rss-child.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: child,
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: "silent",
  });
  const measure = (extra: string[]) =>
    withSim(0, RSS_N, (sim) =>
      run(process.execPath, [child, sim.url, String(CONCURRENCY), lastDay, ...extra], {
        maxBuffer: 1 << 20,
        // the child's memory is what is measured: no inherited heap settings
        env: { ...process.env, NODE_OPTIONS: "" },
      }),
    ).then(
      (result) => JSON.parse(result.stdout) as { versions: number; ms: number; maxRssMb: number },
    );
  const day = await measure([]);
  row(
    `memory: peak RSS, 1-day report over ${fmt(day.versions)} versions`,
    `${fmt(day.maxRssMb)} MB (${fmt(day.ms)} ms)`,
  );
  const month = lastEndedMonth(now, "UTC");
  const monthly = await measure([month]);
  row(
    `memory: peak RSS, month report (${month}) over ${fmt(monthly.versions)} versions`,
    `${fmt(monthly.maxRssMb)} MB (${fmt(monthly.ms)} ms)`,
  );
  await rm(bundleDir, { recursive: true, force: true });
}
