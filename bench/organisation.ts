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
}

async function reportCommand(
  root: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  preload?: string,
): Promise<CommandRun> {
  const started = performance.now();
  const { stderr } = await run(
    process.execPath,
    [
      ...(preload === undefined ? [] : ["--require", preload]),
      join(root, "dist/cli.mjs"),
      "report",
      ...args,
    ],
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
  };
}

const times = (rs: readonly CommandRun[]) => rs.map((r) => fmt(r.ms)).join(", ");

/**
 * Target: the report command over every source ≤ 1.3 × the slowest source's command alone
 * (sources overlap, they do not queue). Each source alone once, the slowest twice more; the
 * organisation three times with REPORT_MAX_IN_FLIGHT as shipped, and three times with a cap
 * of every source's concurrency summed.
 */
export async function runSourcesCommand(b: OrganisationBench, versionsEach: number) {
  const listings = listingsOf(b, versionsEach);
  const { host, entries } = await startListings(b, listings, b.latencyMs);
  const dir = await mkdtemp(join(tmpdir(), "bench-sources-"));
  let k = 0;
  const report = (chosen: readonly Entry[], extra: Record<string, string> = {}) =>
    reportCommand(b.root, envOf(chosen, b.pageCap, extra), [
      "--date",
      b.lastDay,
      "--storage",
      `file://${dir}/r${k++}`,
    ]);
  try {
    const alone: CommandRun[] = [];
    for (const e of entries) alone.push(await report([e]));
    const slowestAt = alone.reduce((m, r, i) => (r.ms > (alone[m] as CommandRun).ms ? i : m), 0);
    const slowest = entries[slowestAt] as Entry;
    const slowestRuns = [
      alone[slowestAt] as CommandRun,
      await report([slowest]),
      await report([slowest]),
    ];
    const aloneMs = median(slowestRuns.map((r) => r.ms));
    const pagesAlone = alone.map((r) => r.pages);
    line(
      `report, ${b.sources} × ${fmt(versionsEach)} versions at ${b.latencyMs} ms, each alone`,
      `${times(alone)} ms (${fmt(Math.min(...pagesAlone))}–${fmt(Math.max(...pagesAlone))} pages)`,
    );
    line(
      `  the slowest alone (${slowest.name}), 3 runs`,
      `${times(slowestRuns)} ms; bound ceil(${fmt(slowestRuns[0]?.pages ?? 0)} / ${b.concurrency}) × ${b.latencyMs} = ${fmt(Math.ceil((slowestRuns[0]?.pages ?? 0) / b.concurrency) * b.latencyMs)} ms`,
    );
    const caps = [
      { cap: DEFAULTS.maxInFlight, how: "default" },
      { cap: b.sources * b.concurrency, how: `${b.sources} × ${b.concurrency}` },
    ].filter((c, i, all) => i === 0 || c.cap !== (all[0] as { cap: number }).cap);
    for (const { cap, how } of caps) {
      const extra: Record<string, string> =
        how === "default" ? {} : { REPORT_MAX_IN_FLIGHT: String(cap) };
      const org: CommandRun[] = [];
      for (let i = 0; i < 3; i++) org.push(await report(entries, extra));
      const orgMs = median(org.map((r) => r.ms));
      const inFlight = Math.min(cap, b.sources * b.concurrency);
      const pages = org[0]?.pages ?? 0;
      line(
        `report, ${b.sources} sources, ${cap} in flight (${how}), 3 runs`,
        `${times(org)} ms, ${fmt(pages)} pages; bound ceil(${fmt(pages)} / ${inFlight}) × ${b.latencyMs} = ${fmt(Math.ceil(pages / inFlight) * b.latencyMs)} ms`,
      );
      target({
        name: `${b.sources} sources' report command (in flight ${cap}, ${how}) vs the slowest alone`,
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
  const preload = fileURLToPath(new URL("../bench/max-rss.cjs", import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), "bench-sources-rss-"));
  let host: SimHost | undefined;
  try {
    const started = await startListings(b, listingsOf(b, each), 0);
    host = started.host;
    const env = envOf(started.entries, b.pageCap, {});
    const measure = async (args: string[], out: string) =>
      reportCommand(b.root, env, [...args, "--storage", `file://${dir}/${out}`], preload);
    for (const [args, label, period] of [
      [["--date", b.lastDay], `report --date ${b.lastDay}`, "1-day"],
      [["--month", b.month], `report --month ${b.month}`, "month"],
    ] as const) {
      const m = await measure([...args], args[0].slice(2));
      line(
        `memory: ${label}, ${b.sources} sources, ${fmt(m.versions)} versions`,
        `${fmt(m.maxRssMb)} MB peak RSS (${fmt(m.ms)} ms)`,
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
