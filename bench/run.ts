import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { build } from "esbuild";
import { DEFAULTS } from "../src/app/config.js";
import { keepForRun } from "../src/app/report-job.js";
import { staticTokenAuth } from "../src/modelarts/auth.js";
import { ModelArtsClient } from "../src/modelarts/client.js";
import { type JobVersion, parseVersionRecord } from "../src/modelarts/version-record.js";
import { aggregate } from "../src/report/aggregate.js";
import { dayWindows } from "../src/report/build.js";
import { addDays, lastEndedMonth, yesterday } from "../src/report/time.js";
import { IdSet } from "../src/scan/id-set.js";
import { scanVersions } from "../src/scan/scan.js";
import { DEMO_CREDENTIALS } from "../src/simulator/demo.js";
import { generateWorkload, mulberry32 } from "../src/simulator/workload.js";
import { FileStore } from "../src/storage/file-store.js";
import { writePartial } from "../src/storage/partials.js";
import { runSourcesCommand, runSourcesMemory } from "./organisation.js";
import { fmt, line, median, printTargets, target } from "./print.js";
import { type SimProcess, startSimProcess } from "./sim-process.js";

/**
 * `npm run bench -- [--versions 100000] [--command-versions 55109] [--latency 50]
 * [--concurrency 8] [--page-cap 100] [--seed 7] [--agg-versions N] [--rss-versions N]
 * [--curve 1,2,4,8,16] [--sources 8] [--source-versions N] [--in-flight 32,80]
 * [--only aggregation,scan,command,memory,ids,bundles,sources,sources-memory,partials]`
 *
 * Prints numbers, never pass/fail: each target of the project with its measured figure, the
 * figure it is held against and the ratio. The simulator runs in a process of its own (its
 * CPU is not the reporter's); the report command runs as users run it (`node dist/cli.mjs`),
 * process start included; peak memory is that of the same command, day and month, read by a
 * preloaded hook as it exits (bench/max-rss.cjs).
 *
 * The organisation (report.md §10): `--sources` listings, each a simulator on a port of its
 * own (all in one process, bench/sim-host.ts), read by one `report` command through
 * REPORT_SOURCES; `sources` times it against each listing's command alone, `sources-memory`
 * reads its peak RSS over `--rss-versions` in all, and `aggregation` aggregates its
 * `--agg-versions` as one source and split over the sources.
 */

const { values } = parseArgs({
  options: {
    versions: { type: "string", default: "100000" },
    "command-versions": { type: "string" },
    latency: { type: "string", default: "50" },
    concurrency: { type: "string", default: String(DEFAULTS.concurrency) },
    "page-cap": { type: "string", default: "100" },
    seed: { type: "string", default: "7" },
    "agg-versions": { type: "string" },
    "rss-versions": { type: "string" },
    curve: { type: "string", default: "1,2,4,8,16" },
    sources: { type: "string", default: "8" },
    "source-versions": { type: "string" },
    "in-flight": { type: "string" },
    only: { type: "string" },
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
const COMMAND_N = int(
  "command-versions",
  values["command-versions"] ?? String(Math.min(55_109, N)),
);
const LATENCY = int("latency", values.latency);
const CONCURRENCY = Math.max(1, int("concurrency", values.concurrency));
const PAGE_CAP = Math.max(1, int("page-cap", values["page-cap"]));
const SEED = int("seed", values.seed);
const AGG_N = int("agg-versions", values["agg-versions"] ?? String(N * 10));
const RSS_N = int("rss-versions", values["rss-versions"] ?? String(N * 10));
const SOURCES = Math.max(1, int("sources", values.sources));
// 40 000 versions a listing at the default 100 000 (the 8 × 40 000).
// The REPORT_MAX_IN_FLIGHT settings the organisation's command runs with (default: as shipped,
// and the sources' concurrency summed).
const IN_FLIGHT = values["in-flight"]?.split(",").map((c) => Math.max(1, int("in-flight", c)));
const SOURCE_N = int("source-versions", values["source-versions"] ?? String(Math.round(N * 0.4)));
// The curve of the issue (1, 2, 4, 8, 16) and the default concurrency among them.
const CURVE = [
  ...new Set([...values.curve.split(",").map((c) => Math.max(1, int("curve", c))), CONCURRENCY]),
].sort((a, b) => a - b);
/** The sections to run (all by default): `--only memory` measures peak RSS alone. */
const SECTIONS = [
  "aggregation",
  "scan",
  "command",
  "memory",
  "ids",
  "bundles",
  "sources",
  "sources-memory",
  "partials",
] as const;
const only = values.only?.split(",").map((s) => s.trim());
for (const s of only ?? []) {
  if (!(SECTIONS as readonly string[]).includes(s)) {
    process.stderr.write(`error: --only "${s}" is none of ${SECTIONS.join(", ")}\n`);
    process.exit(2);
  }
}
const runs = (section: (typeof SECTIONS)[number]) => only === undefined || only.includes(section);
const DAYS = 730; // two years of history
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

function client(url: string) {
  return new ModelArtsClient({
    endpoint: url,
    projectId: DEMO_CREDENTIALS.projectId,
    auth: staticTokenAuth(DEMO_CREDENTIALS.token),
  });
}

async function timeScan(url: string, concurrency: number) {
  const started = performance.now();
  const result = await scanVersions(client(url), {
    pageSize: PAGE_CAP,
    concurrency,
    keep: () => false,
  });
  return { ms: performance.now() - started, pages: result.pages, versions: result.versionsScanned };
}

/** The plain pager: fetch + JSON.parse, one page after the other, advancing by what came. */
async function plainLoop(url: string) {
  const started = performance.now();
  let offset = 0;
  let pages = 0;
  for (;;) {
    const page = new URL(`/v1/${DEMO_CREDENTIALS.projectId}/training-jobs/versions`, url);
    page.searchParams.set("offset", String(offset));
    page.searchParams.set("limit", String(PAGE_CAP));
    page.searchParams.set("sort_by", "create_time");
    page.searchParams.set("order", "asc");
    const res = await fetch(page, { headers: { "X-Auth-Token": DEMO_CREDENTIALS.token } });
    const body = JSON.parse(await res.text()) as { total_count: number; versions: unknown[] };
    pages++;
    offset += body.versions.length;
    if (body.versions.length === 0 || offset >= body.total_count) break;
  }
  return { ms: performance.now() - started, pages };
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
    const length = Math.floor(rng() ** 3 * 3 * 86_400_000);
    const running = start > 0 && start + length > end;
    const flavor = flavors[i % flavors.length] ?? null;
    versions[i] = {
      versionId: i + 1,
      versionName: null,
      status: running ? 8 : start === 0 ? 5 : (ended[i % ended.length] as number),
      createTime: create,
      startTime: start,
      endTime: start > 0 && !running ? start + length : 0,
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
  `bench: ${fmt(N)} versions (the command: ${fmt(COMMAND_N)}) over ${DAYS} days, ${LATENCY} ms latency, page cap ${PAGE_CAP}, default concurrency ${CONCURRENCY}; node ${process.version}\n` +
    `organisation: ${SOURCES} sources × ${fmt(SOURCE_N)} versions (memory: ${fmt(RSS_N)} in all)\n\n`,
);

// --- 1. Pure aggregation, first (a fresh heap), five times ------------------------------------
if (runs("aggregation")) {
  const windows = dayWindows(
    Array.from({ length: 92 }, (_, i) => addDays(lastDay, i - 91)),
    "UTC",
  );
  const end = (windows[windows.length - 1] as { end: number }).end;
  const versions = syntheticVersions(AGG_N, end, 120);
  const fiveRuns = (sources: { name: string; versions: JobVersion[] }[]) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      aggregate({ sources, windows, now, failureStatuses: [3, 5, 6, 13] });
      times.push(performance.now() - started);
    }
    return times;
  };
  const times = fiveRuns([{ name: "default", versions }]);
  const slowest = Math.max(...times);
  line(
    `aggregate: ${fmt(AGG_N)} versions, 92 days, 5 runs`,
    `${times.map((t) => fmt(t)).join(", ")} ms`,
  );
  target({
    name: `aggregation of ${fmt(AGG_N)} versions over 92 days, median`,
    measured: `${fmt(median(times))} ms`,
    against: "1,500 ms",
    ratio: median(times) / 1500,
    target: "≤ 1.5 s",
  });
  target({
    name: "the same, slowest of five",
    measured: `${fmt(slowest)} ms`,
    against: "2,000 ms",
    ratio: slowest / 2000,
    target: "≤ 2 s",
  });
  // The same versions as the organisation's union: split into SOURCES listings of equal size
  // (each (source, version) once), so by_source and by_source_flavor_pool are built too.
  const per = Math.ceil(AGG_N / SOURCES);
  const split = fiveRuns(
    Array.from({ length: SOURCES }, (_, i) => ({
      name: `source-${i + 1}`,
      versions: versions.slice(i * per, (i + 1) * per),
    })),
  );
  line(
    `aggregate: the same split over ${SOURCES} sources, 5 runs`,
    `${split.map((t) => fmt(t)).join(", ")} ms`,
  );
  target({
    name: `aggregation of ${fmt(AGG_N)} versions, 92 days, ${SOURCES} sources, median`,
    measured: `${fmt(median(split))} ms`,
    against: "1,500 ms",
    ratio: median(split) / 1500,
    target: "≤ 1.5 s",
  });
  line(
    `  ${SOURCES} sources vs one, median`,
    `${fmt(median(split) / median(times), 2)}× (${fmt(median(split))} vs ${fmt(median(times))} ms)`,
  );
}

// --- 2. The scan's own cost, at zero latency ------------------------------------------------
if (runs("scan")) {
  const zero = await withSim(0, N, async (sim) => {
    await plainLoop(sim.url); // warm-up of the simulator's sorted listing and the JIT
    const plain = plainLoop(sim.url).then((p) => p);
    const loop = await plain;
    await timeScan(sim.url, CONCURRENCY);
    const scans = [];
    for (let i = 0; i < 3; i++) scans.push(await timeScan(sim.url, CONCURRENCY));
    const loops = [loop.ms];
    for (let i = 0; i < 2; i++) loops.push((await plainLoop(sim.url)).ms);
    return {
      loopMs: median(loops),
      loopPages: loop.pages,
      scan: scans.sort((a, b) => a.ms - b.ms)[1] as { ms: number; pages: number },
    };
  });
  line(
    `scan at zero latency: plain fetch + JSON.parse loop, ${fmt(zero.loopPages)} pages`,
    `${fmt(zero.loopMs)} ms`,
  );
  line(
    `scan at zero latency: the scan (parse, check, link), concurrency ${CONCURRENCY}`,
    `${fmt(zero.scan.ms)} ms, ${fmt(zero.scan.pages)} pages`,
  );
  target({
    name: "the scan's CPU: zero-latency scan vs plain fetch + JSON.parse loop",
    measured: `${fmt(zero.scan.ms)} ms`,
    against: `${fmt(zero.loopMs)} ms`,
    ratio: zero.scan.ms / zero.loopMs,
    target: "≤ 1.5×",
    atMost: 1.5,
  });
  target({
    name: "requests of an unchanging listing vs a plain offset scan",
    measured: `${fmt(zero.scan.pages)} requests`,
    against: `${fmt(zero.loopPages)} pages`,
    ratio: zero.scan.pages / zero.loopPages,
    target: "≤ 1.02×",
    atMost: 1.02,
  });
}

// --- 3. The report command at latency, and the concurrency curve -------------------------------
if (runs("command")) {
  const zeroCommand = await withSim(0, COMMAND_N, async (sim) => {
    await timeScan(sim.url, CONCURRENCY);
    return timeScan(sim.url, CONCURRENCY);
  });
  await withSim(LATENCY, COMMAND_N, async (sim) => {
    const pager = await plainLoop(sim.url);
    line(`sequential pager at ${LATENCY} ms: ${fmt(pager.pages)} pages`, `${fmt(pager.ms)} ms`);
    const curve: [number, number][] = [];
    for (const c of CURVE) {
      const scan = await timeScan(sim.url, c);
      curve.push([c, scan.ms]);
      line(
        `scan at ${LATENCY} ms, concurrency ${c}`,
        `${fmt(scan.ms)} ms (${fmt(pager.ms / scan.ms, 1)}× the sequential pager; bound ${fmt(Math.ceil(scan.pages / c) * LATENCY)} ms)`,
      );
    }
    const dir = await mkdtemp(join(tmpdir(), "bench-command-"));
    try {
      const times: number[] = [];
      let pages = 0;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const { stderr } = await run(
          process.execPath,
          [
            join(ROOT, "dist/cli.mjs"),
            "report",
            "--date",
            lastDay,
            "--storage",
            `file://${dir}/r${i}`,
          ],
          {
            env: {
              ...process.env,
              NODE_OPTIONS: "",
              MODELARTS_ENDPOINT: sim.url,
              MODELARTS_PROJECT_ID: DEMO_CREDENTIALS.projectId,
              MODELARTS_TOKEN: DEMO_CREDENTIALS.token,
              MODELARTS_PAGE_SIZE: String(PAGE_CAP),
            },
            maxBuffer: 1 << 22,
          },
        );
        times.push(performance.now() - started);
        pages = Number([...stderr.matchAll(/scan: (\d+) pages?/g)].at(-1)?.[1] ?? 0);
      }
      const command = median(times);
      const bound = Math.ceil(pages / CONCURRENCY) * LATENCY + zeroCommand.ms;
      line(
        `report command (node dist/cli.mjs report), ${fmt(pages)} pages, 3 runs`,
        `${times.map((t) => fmt(t)).join(", ")} ms`,
      );
      line(
        `  its bound: ceil(pages / ${CONCURRENCY}) × ${LATENCY} ms + zero-latency scan ${fmt(zeroCommand.ms)} ms`,
        `${fmt(bound)} ms`,
      );
      target({
        name: `the report command, process start included, vs its network bound`,
        measured: `${fmt(command)} ms`,
        against: `${fmt(bound)} ms`,
        ratio: command / bound,
        target: "≤ 1.25×",
        atMost: 1.25,
      });
      target({
        name: `the sequential pager vs the report command (speed-up)`,
        measured: `${fmt(pager.ms / command, 1)}×`,
        against: `${fmt(pager.ms)} ms / ${fmt(command)} ms`,
        ratio: pager.ms / command,
        target: "≥ 7×",
        atLeast: 7,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

// --- 4. Peak RSS of the report command itself, in fresh processes ------------------------------
if (runs("memory")) {
  const dir = await mkdtemp(join(tmpdir(), "bench-rss-"));
  // bench/ as source and .bench/ as the built bundle sit at the same depth.
  const preload = fileURLToPath(new URL("../bench/max-rss.cjs", import.meta.url));
  const measure = (args: string[], out: string) =>
    withSim(0, RSS_N, async (sim) => {
      const started = performance.now();
      const { stderr } = await run(
        process.execPath,
        [
          "--require",
          preload,
          join(ROOT, "dist/cli.mjs"),
          "report",
          ...args,
          "--storage",
          `file://${dir}/${out}`,
        ],
        {
          maxBuffer: 1 << 22,
          // the command's memory is what is measured: no inherited heap settings
          env: {
            ...process.env,
            NODE_OPTIONS: "",
            MODELARTS_ENDPOINT: sim.url,
            MODELARTS_PROJECT_ID: DEMO_CREDENTIALS.projectId,
            MODELARTS_TOKEN: DEMO_CREDENTIALS.token,
            MODELARTS_PAGE_SIZE: String(PAGE_CAP),
          },
        },
      );
      const maxRssMb = Number(/max-rss-mb ([\d.]+)/.exec(stderr)?.[1]);
      const versions = Number(/(\d+) of \d+ versions read, done/.exec(stderr)?.[1]);
      return { ms: performance.now() - started, maxRssMb, versions };
    });
  const day = await measure(["--date", lastDay], "day");
  const month = lastEndedMonth(now, "UTC");
  const monthly = await measure(["--month", month], "month");
  await rm(dir, { recursive: true, force: true });
  line(
    `memory: report --date ${lastDay} over ${fmt(day.versions)} versions`,
    `${fmt(day.maxRssMb)} MB peak RSS (${fmt(day.ms)} ms)`,
  );
  line(
    `memory: report --month ${month} over ${fmt(monthly.versions)} versions`,
    `${fmt(monthly.maxRssMb)} MB peak RSS (${fmt(monthly.ms)} ms)`,
  );
  for (const [name, m] of [
    [`peak RSS, 1-day report over ${fmt(day.versions)} scanned versions`, day],
    [`peak RSS, month report over ${fmt(monthly.versions)} scanned versions`, monthly],
  ] as const) {
    target({
      name,
      measured: `${fmt(m.maxRssMb)} MB`,
      against: "200 MB",
      ratio: m.maxRssMb / 200,
      target: "≤ 200 MB",
    });
  }
}

// --- 4b. Publish over a run's partials (issue 21), alone in a process ----------------------------
if (runs("partials")) {
  const dir = await mkdtemp(join(tmpdir(), "bench-partials-"));
  const store = new FileStore(dir);
  const month = lastEndedMonth(now, "UTC");
  // As ScanSource writes them: of each source's versions over two years (as the report
  // command's memory section reads), those the month's report keeps.
  const keep = keepForRun({
    dates: [],
    month,
    timeZone: "UTC",
    now,
    failureStatuses: [3, 5, 6, 13],
  });
  const perSource = Math.round(RSS_N / SOURCES);
  const written = performance.now();
  const sources = [];
  let kept = 0;
  for (let i = 0; i < SOURCES; i++) {
    const versions = new Map<number, JobVersion>();
    for (const raw of generateWorkload({ versions: perSource, seed: SEED + i, days: DAYS, now })) {
      const parsed = parseVersionRecord(raw);
      if (parsed.ok && keep(parsed.version)) versions.set(parsed.version.versionId, parsed.version);
    }
    const scan = {
      versions,
      versionsScanned: perSource,
      recordsRead: perSource,
      pages: Math.ceil(perSource / PAGE_CAP),
      repairPages: 0,
      totalCountFirst: perSource,
      totalCountLast: perSource,
      anomalies: { skipped: 0, duplicate_rows: 0, reasons: {} },
    };
    kept += versions.size;
    const name = `source-${i}`;
    sources.push({ name, ref: await writePartial(store, "bench-run", i, name, scan) });
  }
  const writeMs = performance.now() - written;
  const bytes = sources.reduce((n, s) => n + s.ref.bytes, 0);
  const runFile = join(dir, "run.json");
  await writeFile(runFile, JSON.stringify({ runId: "bench-run", month, now, sources }));
  const preload = fileURLToPath(new URL("../bench/max-rss.cjs", import.meta.url));
  const { stdout, stderr } = await run(
    process.execPath,
    ["--require", preload, join(ROOT, ".bench/publish-partials.mjs"), dir, runFile],
    { maxBuffer: 1 << 22, env: { ...process.env, NODE_OPTIONS: "" } },
  );
  const maxRssMb = Number(/max-rss-mb ([\d.]+)/.exec(stderr)?.[1]);
  const readMs = Number(/read-ms (\d+)/.exec(stdout)?.[1]);
  const publishMs = Number(/publish-ms (\d+)/.exec(stdout)?.[1]);
  await rm(dir, { recursive: true, force: true });
  line(
    `partials: ${SOURCES} sources, ${fmt(RSS_N)} versions, ${fmt(kept)} in ${month}`,
    `${fmt(bytes / 1024 / 1024, 1)} MB gzipped (${fmt(bytes / Math.max(1, kept), 1)} bytes a version), written in ${fmt(writeMs)} ms`,
  );
  line(
    "Publish: read and check every partial, then the month",
    `${fmt(maxRssMb)} MB peak RSS (read ${fmt(readMs)} ms, publish ${fmt(publishMs)} ms)`,
  );
  target({
    name: `peak RSS, Publish of a month over ${SOURCES} partials, ${fmt(RSS_N)} versions`,
    measured: `${fmt(maxRssMb)} MB`,
    against: "250 MB",
    ratio: maxRssMb / 250,
    target: "≤ 250 MB",
  });
}

// --- 4a. The organisation: several sources in one report command --------------------------------
const organisation = {
  root: ROOT,
  sources: SOURCES,
  latencyMs: LATENCY,
  pageCap: PAGE_CAP,
  seed: SEED,
  days: DAYS,
  concurrency: CONCURRENCY,
  lastDay,
  month: lastEndedMonth(now, "UTC"),
  now,
};
if (runs("sources")) await runSourcesCommand(organisation, SOURCE_N, IN_FLIGHT);
if (runs("sources-memory")) await runSourcesMemory(organisation, RSS_N);

// --- 4b. What the scan's id sets hold: IdSet against a Set of numbers -------------------------
if (runs("ids")) {
  // A scan keeps one set of every valid version id, and builds a second over the rows its
  // pages covered (duplicate rows): twice the figure below at the end of a scan.
  const gc = (globalThis as { gc?: () => void }).gc;
  const used = () => {
    gc?.();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const ids = RSS_N;
  const measureIds = (make: () => { add(id: number): unknown; size: number }) => {
    const before = used();
    const set = make();
    // Ids as the simulator gives them: rising from a million by 1 to 6.
    for (let i = 0, id = 1_000_000; i < ids; i++, id += 1 + (i % 6)) set.add(id);
    const bytes = used() - before;
    if (set.size !== ids) throw new Error("the id set lost ids");
    return bytes / 1024 / 1024;
  };
  const compact = measureIds(() => new IdSet());
  const plain = measureIds(() => new Set<number>());
  line(
    `memory: ${fmt(ids)} version ids, IdSet vs Set<number>${gc === undefined ? " (no --expose-gc)" : ""}`,
    `${fmt(compact, 1)} MB vs ${fmt(plain, 1)} MB`,
  );
}

// --- 5. Cold start: each function's bundle, built as serverless-esbuild builds it ------------
if (runs("bundles")) {
  const dir = await mkdtemp(join(tmpdir(), "bench-handlers-"));
  // The modules that export a deployed function's handler (the local stage's own are left out).
  const handlers: string[] = [];
  for (const f of await readdir(join(ROOT, "src/handlers"))) {
    if (!f.endsWith(".ts") || f.endsWith("-local.ts")) continue;
    const source = await readFile(join(ROOT, "src/handlers", f), "utf8");
    if (source.includes("export const handler")) handlers.push(f);
  }
  for (const file of handlers) {
    const name = file.replace(/\.ts$/, "");
    const out = join(dir, `${name}.mjs`);
    await build({
      entryPoints: [join(ROOT, "src/handlers", file)],
      bundle: true,
      minify: true,
      platform: "node",
      format: "esm",
      target: "node22",
      outfile: out,
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: "silent",
    });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { stdout } = await run(process.execPath, [
        "--input-type=module",
        "-e",
        `const t = performance.now(); await import(${JSON.stringify(out)}); console.log(performance.now() - t);`,
      ]);
      times.push(Number(stdout.trim()));
    }
    const size = (await stat(out)).size;
    line(
      `cold start: import of the ${name} bundle (${fmt(size / 1024)} KB)`,
      `${fmt(median(times))} ms median of 5`,
    );
  }
  await rm(dir, { recursive: true, force: true });
}

// --- The targets, side by side ------------------------------------------------------------------
printTargets();
