import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DEFAULTS } from "../src/app/config.js";
import { fmt, line, median, target } from "./print.js";
import type { SimHostOptions } from "./sim-host.js";
import { type SimHost, startSimHost } from "./sim-process.js";

/**
 * The organisation's report (report.md §10) as users run it: `node dist/cli.mjs report` with
 * REPORT_SOURCES naming one listing a simulator, each with credentials of its own
 * (`env:S<n>`), every simulator in one process of their own (sim-host.ts).
 */

export interface OrganisationBench {
  /** The project's root: dist/cli.mjs is run from there. */
  readonly root: string;
  readonly sources: number;
  readonly latencyMs: number;
  readonly pageCap: number;
  readonly seed: number;
  readonly days: number;
  /** Each source's MODELARTS_CONCURRENCY (the default). */
  readonly concurrency: number;
  readonly lastDay: string;
  readonly month: string;
  readonly now: number;
}

type Listing = SimHostOptions["listings"][number];
interface Entry {
  readonly name: string;
  readonly endpoint: string;
  readonly project_id: string;
  readonly credentials: string;
  readonly token: string;
}

const run = promisify(execFile);

/** Each source its own project, token and data (seed), `versions` in its listing. */
function listingsOf(b: OrganisationBench, versions: number): Listing[] {
  return Array.from({ length: b.sources }, (_, i) => ({
    projectId: `bench-project-${i + 1}`,
    token: `bench-token-${i + 1}`,
    versions,
    seed: b.seed + i,
  }));
}

/** Starts the listings and reads one page of each, so that no run pays a simulator's sort. */
async function startListings(b: OrganisationBench, listings: Listing[], latencyMs: number) {
  const host = await startSimHost({
    listings,
    latencyMs,
    pageCap: b.pageCap,
    days: b.days,
    now: b.now,
  });
  const entries: Entry[] = host.urls.map((url, i) => {
    const l = listings[i] as Listing;
    return {
      name: `source-${i + 1}`,
      endpoint: url,
      project_id: l.projectId,
      credentials: `env:S${i + 1}`,
      token: l.token,
    };
  });
  await Promise.all(
    entries.map(async (e) => {
      const page = new URL(`/v1/${e.project_id}/training-jobs/versions`, e.endpoint);
      page.search = "offset=0&limit=2&sort_by=create_time&order=asc";
      const res = await fetch(page, { headers: { "X-Auth-Token": e.token } });
      if (!res.ok) throw new Error(`${e.name}: the warm-up page answered ${res.status}`);
      await res.arrayBuffer();
    }),
  );
  return { host, entries };
}

/** The environment of a run reading `entries`: none of the caller's upstream settings. */
function envOf(
  entries: readonly Entry[],
  pageCap: number,
  extra: Record<string, string>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(MODELARTS_|REPORT_|IAM_|PRICE_TABLE|S\d+_)/.test(k)) env[k] = v;
  }
  env.NODE_OPTIONS = ""; // the command's own heap settings only
  env.MODELARTS_PAGE_SIZE = String(pageCap);
  env.REPORT_SOURCES = JSON.stringify(entries.map(({ token: _, ...entry }) => entry));
  for (const e of entries) env[`${e.credentials.slice(4)}_MODELARTS_TOKEN`] = e.token;
  return { ...env, ...extra };
}

interface CommandRun {
  readonly ms: number;
  readonly pages: number;
  readonly versions: number;
  readonly maxRssMb: number;
  /** The command's CPU time, user and system, all threads. */
  readonly cpuMs: number;
  /** The simulators' CPU time during the run. */
  readonly simCpuMs?: number;
}

// Preloaded into every command this file runs, for its peak RSS and CPU time (bench/ as source
// and .bench/ as the built bundle sit at the same depth).
const PRELOAD = fileURLToPath(new URL("../bench/max-rss.cjs", import.meta.url));

async function reportCommand(
  root: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
): Promise<CommandRun> {
  const started = performance.now();
  const { stderr } = await run(
    process.execPath,
    ["--require", PRELOAD, join(root, "dist/cli.mjs"), "report", ...args],
    { env, maxBuffer: 1 << 24 },
  );
  const ms = performance.now() - started;
  // The last progress line sums every source's.
  const done = /scan: (\d+) pages?, (\d+)(?: of \d+)? versions read, done/.exec(stderr);
  return {
    ms,
    pages: Number(done?.[1] ?? 0),
    versions: Number(done?.[2] ?? 0),
    maxRssMb: Number(/max-rss-mb ([\d.]+)/.exec(stderr)?.[1] ?? Number.NaN),
    cpuMs: Number(/cpu-ms ([\d.]+)/.exec(stderr)?.[1] ?? Number.NaN),
  };
}

/** The runs' times and pages, then their network bound and median CPU (command, simulators). */
function printRuns(label: string, rs: readonly CommandRun[], inFlight: number, latencyMs: number) {
  const pages = rs.map((r) => r.pages);
  const [low, high] = [Math.min(...pages), Math.max(...pages)];
  line(
    label,
    `${rs.map((r) => fmt(r.ms)).join(", ")} ms (${fmt(low)}${high === low ? "" : `–${fmt(high)}`} pages)`,
  );
  const cpu = (of: (r: CommandRun) => number) => fmt(median(rs.map(of)));
  line(
    `  bound ceil(${fmt(high)} / ${inFlight}) × ${latencyMs} ms; CPU: command, simulators`,
    `${fmt(Math.ceil(high / inFlight) * latencyMs)} ms; ${cpu((r) => r.cpuMs)}, ${cpu((r) => r.simCpuMs ?? Number.NaN)} ms`,
  );
}

/**
 * Target: the report command over every source ≤ 1.3 × the slowest source's command alone
 * (sources overlap, they do not queue). Each source alone once, the slowest twice more; the
 * organisation three times with each cap on the requests in flight: by default
 * REPORT_MAX_IN_FLIGHT as shipped, and every source's concurrency summed (where the cap no
 * longer binds).
 */
export async function runSourcesCommand(
  b: OrganisationBench,
  versionsEach: number,
  inFlightCaps: readonly number[] | undefined,
) {
  const { host, entries } = await startListings(b, listingsOf(b, versionsEach), b.latencyMs);
  const dir = await mkdtemp(join(tmpdir(), "bench-sources-"));
  let k = 0;
  const report = async (chosen: readonly Entry[], extra: Record<string, string> = {}) => {
    const before = await host.cpuMs();
    const r = await reportCommand(b.root, envOf(chosen, b.pageCap, extra), [
      "--date",
      b.lastDay,
      "--storage",
      `file://${dir}/r${k++}`,
    ]);
    return { ...r, simCpuMs: (await host.cpuMs()) - before };
  };
  try {
    const alone: CommandRun[] = [];
    for (const e of entries) alone.push(await report([e]));
    const at = alone.reduce((m, r, i) => (r.ms > (alone[m] as CommandRun).ms ? i : m), 0);
    const slowest = entries[at] as Entry;
    const slowestRuns = [alone[at] as CommandRun, await report([slowest]), await report([slowest])];
    const aloneMs = median(slowestRuns.map((r) => r.ms));
    const each = `${b.sources} × ${fmt(versionsEach)} versions at ${b.latencyMs} ms`;
    printRuns(`report, ${each}, each alone`, alone, b.concurrency, b.latencyMs);
    printRuns(
      `report, the slowest alone (${slowest.name}), 3 runs`,
      slowestRuns,
      b.concurrency,
      b.latencyMs,
    );
    const all = b.sources * b.concurrency;
    const caps = inFlightCaps ?? [...new Set([DEFAULTS.maxInFlight, all])];
    for (const cap of caps) {
      const how =
        cap === DEFAULTS.maxInFlight
          ? "default"
          : cap === all
            ? `${b.sources} × ${b.concurrency}`
            : "set";
      const extra: Record<string, string> =
        cap === DEFAULTS.maxInFlight ? {} : { REPORT_MAX_IN_FLIGHT: String(cap) };
      const org: CommandRun[] = [];
      for (let i = 0; i < 3; i++) org.push(await report(entries, extra));
      printRuns(
        `report, ${b.sources} sources, ${cap} in flight (${how}), 3 runs`,
        org,
        Math.min(cap, all),
        b.latencyMs,
      );
      const orgMs = median(org.map((r) => r.ms));
      target({
        name: `${b.sources} sources' report command (${cap} in flight, ${how}) vs the slowest alone`,
        measured: `${fmt(orgMs)} ms`,
        against: `${fmt(aloneMs)} ms`,
        ratio: orgMs / aloneMs,
        target: "≤ 1.3×",
        atMost: 1.3,
      });
    }
  } finally {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Target: peak RSS ≤ 250 MB for the report command over `total` versions across the sources. */
export async function runSourcesMemory(b: OrganisationBench, total: number) {
  const each = Math.ceil(total / b.sources);
  const dir = await mkdtemp(join(tmpdir(), "bench-sources-rss-"));
  let host: SimHost | undefined;
  try {
    const started = await startListings(b, listingsOf(b, each), 0);
    host = started.host;
    const env = envOf(started.entries, b.pageCap, {});
    const measure = async (args: string[], out: string) =>
      reportCommand(b.root, env, [...args, "--storage", `file://${dir}/${out}`]);
    for (const [args, label, period] of [
      [["--date", b.lastDay], `report --date ${b.lastDay}`, "1-day"],
      [["--month", b.month], `report --month ${b.month}`, "month"],
    ] as const) {
      const m = await measure([...args], args[0].slice(2));
      line(
        `memory: ${label}, ${b.sources} sources, ${fmt(m.versions)} versions`,
        `${fmt(m.maxRssMb)} MB peak RSS (${fmt(m.ms)} ms, CPU ${fmt(m.cpuMs)} ms)`,
      );
      target({
        name: `peak RSS, ${period} report over ${b.sources} sources, ${fmt(m.versions)} versions`,
        measured: `${fmt(m.maxRssMb)} MB`,
        against: "250 MB",
        ratio: m.maxRssMb / 250,
        target: "≤ 250 MB",
      });
    }
  } finally {
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
