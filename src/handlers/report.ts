import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import middy from "@middy/core";
import { z } from "zod";
import { ConfigError } from "../lib/errors.js";
import { MAX_RANGE_DAYS } from "../lib/job.js";
import { addDays, isValidDate, yesterday } from "../lib/report/time.js";
import { runConfiguredReport } from "../lib/run.js";
import { fetchSecret, getConfig, getStore, log, logger } from "./runtime.js";

/**
 * The scheduled report: EventBridge Scheduler calls it daily at 00:30 in REPORT_TIMEZONE
 * (its event carries no dates: report yesterday), and POST /reports sends `{"dates": [...]}`.
 * A failure throws, so Lambda retries it and then sends it to the dead-letter queue.
 */

const metrics = new Metrics({
  namespace: "ModelArtsUsageReport",
  serviceName: "modelarts-usage-report",
});

const event = z.object({
  dates: z.array(z.string().refine(isValidDate)).min(1).max(MAX_RANGE_DAYS).optional(),
});

/** The dates an invocation asks for: consecutive and ascending, or yesterday. */
export function datesOf(input: unknown, now: number, timeZone: string): string[] {
  const parsed = event.safeParse(input ?? {});
  if (!parsed.success)
    throw new ConfigError("the event's dates must be 1 to 92 dates (YYYY-MM-DD)");
  const dates = parsed.data.dates ?? [yesterday(now, timeZone)];
  for (let i = 1; i < dates.length; i++) {
    if (dates[i] !== addDays(dates[i - 1] as string, 1)) {
      throw new ConfigError("the event's dates must be consecutive and ascending");
    }
  }
  return dates;
}

export interface ReportOutcome {
  dates: string[];
  latest: string;
  versionsScanned: number;
  pages: number;
  skipped: number;
}

/** Time kept back from the Lambda timeout to write the files and log the outcome. */
const WRITE_MARGIN_MS = 60_000;

async function run(input: unknown, remainingMs: number): Promise<ReportOutcome> {
  const config = getConfig();
  const now = Date.now();
  // Retries and timeouts of upstream requests end before the function would be killed, so a
  // run against a failing API fails cleanly (and is retried) instead of timing out silently.
  const deadline = now + Math.max(remainingMs - WRITE_MARGIN_MS, remainingMs / 2);
  const dates = datesOf(input, now, config.timeZone);
  try {
    const result = await runConfiguredReport(config, dates, {
      now,
      log,
      fetchSecret,
      store: getStore(),
      deadline,
    });
    metrics.addMetric("ReportRuns", MetricUnit.Count, 1);
    metrics.addMetric("VersionsScanned", MetricUnit.Count, result.scan.versionsScanned);
    metrics.addMetric("BadRecords", MetricUnit.Count, result.scan.anomalies.skipped);
    return {
      dates,
      latest: result.latest.report_date,
      versionsScanned: result.scan.versionsScanned,
      pages: result.scan.pages,
      skipped: result.scan.anomalies.skipped,
    };
  } catch (error) {
    metrics.addMetric("ReportFailures", MetricUnit.Count, 1);
    logger.error("report run failed; latest.json was not changed", {
      dates: `${dates[0]}..${dates[dates.length - 1]}`,
      error: error instanceof Error ? error : String(error),
    });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}

export const handler = middy<unknown, ReportOutcome>().handler((input, context) =>
  run(
    input,
    typeof context.getRemainingTimeInMillis === "function"
      ? context.getRemainingTimeInMillis()
      : 900_000,
  ),
);
