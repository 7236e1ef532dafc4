import { loadReportConfig, parseLinkKey, type ReportConfig } from "../app/config.js";
import { keepHeapFlat } from "../app/heap-policy.js";
import { deliverRun, digestLinks } from "../app/notify.js";
import type { ReportJobResult } from "../app/report-job.js";
import { runConfiguredReport } from "../app/run.js";
import { formatHours } from "../report/format.js";
import { MAX_RANGE_DAYS, selectRun } from "../report/select-dates.js";
import type { Metrics } from "../report/types.js";
import type { Log } from "../shared/log.js";
import { openStore } from "../storage/open-store.js";
import { type CliIo, fail, parseOptions } from "./main.js";
import { progressPrinter } from "./progress.js";

/**
 * `npm run report -- [--date D | --from D --to D] [--storage URL] [--timezone TZ]`
 * Exit codes: 0 success, 2 bad arguments or configuration, 1 the run failed.
 */

/** Where `npm run dev` (serverless-offline) serves the API: the local digest's links. */
const LOCAL_API = "http://localhost:3000";

const USAGE =
  "usage: npm run report -- [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD | --month YYYY-MM] [--storage URL] [--timezone TZ]";

export interface ReportArgs {
  readonly dates: string[];
  /** A month to report as one window (then `dates` is empty). */
  readonly month: string | undefined;
  readonly config: ReportConfig;
}

/**
 * Parses the command line and the environment; throws ConfigError (or DateSelectionError) with
 * one clear line.
 */
export function parseReportArgs(
  argv: readonly string[],
  env: CliIo["env"],
  now: number,
): ReportArgs {
  const values = parseOptions(
    argv,
    {
      date: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      month: { type: "string" },
      storage: { type: "string" },
      timezone: { type: "string" },
    },
    USAGE,
  );
  const config = loadReportConfig(env, { storage: values.storage, timeZone: values.timezone });
  const { dates, month } = selectRun(
    { date: values.date, from: values.from, to: values.to, month: values.month },
    {
      now,
      timeZone: config.timeZone,
      maxDays: MAX_RANGE_DAYS,
      names: { date: "--date", from: "--from", to: "--to" },
      monthName: "--month",
      defaultYesterday: true,
    },
  );
  return { dates, month, config };
}

function stderrLog(stderr: NodeJS.WritableStream): Log {
  const line = (level: string, message: string, extra?: Record<string, unknown>) =>
    stderr.write(`${level}: ${message}${extra ? ` ${JSON.stringify(extra)}` : ""}\n`);
  return {
    info: () => {},
    warn: (message, extra) => line("warning", message, extra),
  };
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
    .join("  ");
}

/** The summary on standard output: where each file went, and the top flavors. */
export function summary(result: ReportJobResult, storeUrl: string): string {
  const out: string[] = [];
  for (const { date, keys } of result.written) {
    for (const key of Object.values(keys)) out.push(`wrote ${storeUrl.replace(/\/$/, "")}/${key}`);
    void date;
  }
  if (result.month !== undefined) {
    for (const key of Object.values(result.month.keys)) {
      out.push(`wrote ${storeUrl.replace(/\/$/, "")}/${key}`);
    }
  }
  for (const { label, scanStartedAt } of result.superseded) {
    out.push(`skipped ${label}: a newer report (scan started ${scanStartedAt}) is already stored`);
  }
  if (result.latest !== undefined) out.push(`latest.json → ${result.latest.report_date}`);
  if (result.month !== undefined) {
    out.push(`latest-month.json → ${result.month.latest.report_month}`);
  }
  const last = result.month?.report ?? result.reports[result.reports.length - 1];
  if (last !== undefined) {
    const r = last.report;
    out.push("");
    out.push(
      `${r.label} (${r.timezone}): ${r.totals.versions_active} active, ${r.totals.versions_created} created, ${r.totals.versions_failed} failed; ` +
        `${formatHours(r.totals.gpu_hours)} GPU-h, ${formatHours(r.totals.npu_hours)} NPU-h; ${r.anomalies.skipped} bad records skipped, ${r.anomalies.duplicate_rows} duplicate rows`,
    );
    const table = (name: string, groups: readonly (Metrics & { key: string })[]) => {
      const header = [name, "active", "GPUs", "peak", "GPU-h", "NPU-h"];
      const rows = groups.map((g) => [
        g.key,
        String(g.versions_active),
        String(g.gpus),
        String(g.peak_gpus),
        formatHours(g.gpu_hours),
        formatHours(g.npu_hours),
      ]);
      const widths = header.map((h, i) =>
        Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
      );
      out.push(pad(header, widths));
      for (const row of rows) out.push(pad(row, widths));
    };
    table(
      "flavor",
      r.by_flavor.slice(0, 10).map((f) => ({ ...f, key: f.flavor_code ?? "(none)" })),
    );
    if (r.by_source.length > 1) {
      // Several sources (§10): the peak of each is its own; the total's is the peak of the sum.
      out.push("");
      table(
        "source",
        r.by_source.map((s) => ({ ...s, key: s.source ?? "" })),
      );
      out.push(
        `peak of the sum across the ${r.by_source.length} sources: ${r.totals.peak_gpus} GPUs, ${r.totals.peak_npus} NPUs`,
      );
    }
  }
  return `${out.join("\n")}\n`;
}

/**
 * The daily digest of a run (report.md §11), locally: written as `digest.txt` beside the
 * newest day's files and returned for printing; a 7-day signed link when REPORT_LINK_KEY is
 * set (for `npm run dev` on localhost:3000).
 */
/**
 * `npm start`'s digest: as the scheduled run's, written beside the day's files and printed;
 * the link (with REPORT_LINK_KEY) points at the local stage's API (`npm run dev`).
 */
async function writeDigest(
  result: Awaited<ReturnType<typeof runConfiguredReport>>,
  config: ReportConfig,
  io: CliIo,
): Promise<string | undefined> {
  // A key that is not one (too short) leaves the digest without a link rather than fail the run.
  const key = (() => {
    try {
      return parseLinkKey(io.env);
    } catch {
      return null;
    }
  })();
  const link = await digestLinks(key?.kind === "value" ? key : null, LOCAL_API, io.now(), () =>
    Promise.reject(new Error("no secrets locally")),
  );
  const store = openStore(config.storage, io.cwd === undefined ? {} : { cwd: io.cwd });
  const delivery = await deliverRun(result, { scheduled: true }, { store, link });
  return delivery.kind === "digest" ? delivery.digest.text : undefined;
}

export async function runReportCli(
  argv: readonly string[],
  io: CliIo,
  opts: { digest?: boolean } = {},
): Promise<number> {
  let args: ReportArgs;
  try {
    args = parseReportArgs(argv, io.env, io.now());
  } catch (error) {
    return fail(io, error);
  }
  const { config, dates, month } = args;
  keepHeapFlat();
  const now = io.now();
  const log = stderrLog(io.stderr);
  try {
    const result = await runConfiguredReport(
      config,
      { dates, month },
      {
        now,
        log,
        cwd: io.cwd,
        onProgress: progressPrinter(io.stderr),
        startDemo: (demoNow) =>
          import("../simulator/demo.js").then((m) => m.startDemoOrganisation(demoNow)),
        onDemo: () =>
          io.stderr.write(
            "MODELARTS_ENDPOINT is not set: using the built-in demo data (a simulated ModelArts on loopback)\n",
          ),
      },
    );
    io.stdout.write(summary(result, result.storeUrl));
    const digest = opts.digest === true ? await writeDigest(result, config, io) : undefined;
    if (digest !== undefined) io.stdout.write(`\n${digest}`);
    return 0;
  } catch (error) {
    const code = fail(io, error, { failed: "the report run failed" });
    if (code === 1) io.stderr.write("latest.json was not changed.\n");
    return code;
  }
}
