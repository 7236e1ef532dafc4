import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { keepHeapFlat } from "../app/heap-policy.js";
import { runConfiguredReport } from "../app/run.js";
import { finishRegeneration } from "../storage/regenerations.js";
import { requestOf } from "./report-event.js";
import { outcomeOf, type ReportOutcome } from "./run-outcome.js";
import { fetchSecret, log, logger, report } from "./runtime.js";

/**
 * The report function: EventBridge Scheduler calls it daily at 00:30 in REPORT_TIMEZONE (report
 * yesterday), and POST /reports hands it `{"dates": [...]}`. A failure throws, so Lambda
 * retries it and then sends it to the dead-letter queue.
 */

// The function scans: its heap is kept close to what it holds (src/app/heap-policy.ts).
keepHeapFlat();

const metrics = new Metrics({
  namespace: "ModelArtsUsageReport",
  serviceName: "modelarts-usage-report",
});

/** Time kept back from the Lambda timeout to write the files and log the outcome. */
const WRITE_MARGIN_MS = 60_000;

async function run(input: unknown, remainingMs: number): Promise<ReportOutcome> {
  const now = Date.now();
  let label = "(not read yet)";
  try {
    const config = report.config();
    // Retries and timeouts of upstream requests end before the function would be killed, so a
    // run against a failing API fails cleanly (and is retried) instead of timing out silently.
    const deadline = now + Math.floor(Math.max(remainingMs - WRITE_MARGIN_MS, remainingMs / 2));
    const store = report.store();
    const { dates, month, requestId } = await requestOf(input, store, now, config.timeZone);
    label = [dates.length > 0 ? `${dates[0]}..${dates[dates.length - 1]}` : undefined, month]
      .filter(Boolean)
      .join(" and ");
    const result = await runConfiguredReport(
      config,
      { dates, month },
      {
        now,
        log,
        fetchSecret,
        store,
        deadline,
      },
    );
    if (requestId !== undefined) await finishRegeneration(store, requestId, Date.now());
    metrics.addMetric("ReportRuns", MetricUnit.Count, 1);
    metrics.addMetric("VersionsScanned", MetricUnit.Count, result.scan.versionsScanned);
    metrics.addMetric("BadRecords", MetricUnit.Count, result.scan.anomalies.skipped);
    logger.info("report run finished", {
      dates: label,
      latest: result.latest?.report_date ?? null,
      latestMonth: result.month?.latest.report_month ?? null,
      superseded: result.superseded.map((s) => s.label),
      sources: result.sourceScans.map((s) => s.name),
    });
    return outcomeOf(result, dates, month);
  } catch (error) {
    metrics.addMetric("ReportFailures", MetricUnit.Count, 1);
    logger.error("report run failed; latest.json was not changed", {
      dates: label,
      error: error instanceof Error ? error : String(error),
    });
    throw error;
  }
}

// Metrics are published once per invocation, after it returns or throws (logMetrics); log
// lines carry the invocation's request id, function name and cold start (injectLambdaContext).
export const handler = middy<unknown, ReportOutcome, Error, Context>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((input, context) =>
    run(
      input,
      typeof context.getRemainingTimeInMillis === "function"
        ? context.getRemainingTimeInMillis()
        : 900_000,
    ),
  );
