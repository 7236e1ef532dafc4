import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  METRICS_NAMESPACE,
  RUN_METRICS,
  type RunFigures,
  USAGE_METRICS,
  type UsagePoint,
} from "../app/run-metrics.js";

/**
 * Writes the run's metrics (report.md §11) in the embedded metric format through Powertools.
 * A document has one set of dimension values, so each (day, source, pool) is a document of its
 * own: dimensions service, source and pool, its 3 or 4 metrics (far under EMF's 100), and the
 * report's date and the run's id as properties. The date is not the document's Timestamp:
 * CloudWatch drops points more than 14 days old, which a regeneration of an older day would be,
 * and a day's figures are known only when its run ends; so a point is stamped when the run
 * published it (the scheduled run, a day after the day it reports), and `report_date` finds a
 * day's points in Logs Insights.
 */

/** Its own instance, so the usage documents never mix with the invocation's buffered metrics. */
const usage = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: "modelarts-usage-report",
});

export function publishUsageMetrics(points: readonly UsagePoint[], runId: string): void {
  for (const p of points) {
    usage.addDimension("source", p.source);
    usage.addDimension("pool", p.pool);
    usage.addMetadata("report_date", p.date);
    usage.addMetadata("run_id", runId);
    usage.addMetric(USAGE_METRICS.gpuHours, MetricUnit.NoUnit, p.gpuHours);
    usage.addMetric(USAGE_METRICS.npuHours, MetricUnit.NoUnit, p.npuHours);
    usage.addMetric(USAGE_METRICS.failedVersions, MetricUnit.Count, p.failedVersions);
    if (p.cost !== null) usage.addMetric(USAGE_METRICS.cost, MetricUnit.NoUnit, p.cost);
    usage.publishStoredMetrics();
  }
}

/** The run's own figures, into the invocation's document (flushed by `logMetrics`). */
export function addRunMetrics(metrics: Metrics, run: RunFigures): void {
  metrics.addMetric(RUN_METRICS.duration, MetricUnit.Milliseconds, run.durationMs);
  metrics.addMetric(RUN_METRICS.pages, MetricUnit.Count, run.pages);
  metrics.addMetric(RUN_METRICS.versionsScanned, MetricUnit.Count, run.versionsScanned);
}
