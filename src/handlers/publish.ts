import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { keepHeapFlat } from "../app/heap-policy.js";
import { deliverRun, digestLinks } from "../app/notify.js";
import type { ReportJobResult } from "../app/report-job.js";
import { METRICS_NAMESPACE, runFigures, usagePoints } from "../app/run-metrics.js";
import { publishPlannedRun } from "../app/steps.js";
import type { ScanResult } from "../scan/scan.js";
import { deletePartials, markPublished, readPartial, readPublished } from "../storage/partials.js";
import { finishRegeneration } from "../storage/regenerations.js";
import type { ReportStore } from "../storage/store.js";
import { outcomeOf, type ReportOutcome, reportOutcome } from "./run-outcome.js";
import { fetchSecret, log, logger, report } from "./runtime.js";
import { notify } from "./sns-notifier.js";
import { StepFailedError, stepError } from "./step-errors.js";
import { publishInput } from "./step-payloads.js";
import { addRunMetrics, publishUsageMetrics } from "./usage-metrics.js";

/**
 * Publish, the state machine's last step (issue 21): every source's partial, checked against
 * the size and SHA-256 its scan handed over, merged into the reports exactly as the one-process
 * run does, published under the run lock with the same whole-or-nothing rules; then the run's
 * partials are deleted and its regeneration (POST /reports) released.
 */

keepHeapFlat();

const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: "modelarts-usage-report",
});

/**
 * The digest of a scheduled run, or the alerts of another, to the stack's topic. The reports
 * are published by then: a message that cannot be sent is logged and counted
 * (NotificationFailures, an alarm of the stack), not a failed run.
 */
async function tell(result: ReportJobResult, scheduled: boolean, store: ReportStore) {
  try {
    const { links } = notify.config();
    const link = await digestLinks(
      links?.key ?? null,
      links?.apiUrl ?? null,
      Date.now(),
      fetchSecret,
    );
    const notifier = notify.notifier();
    const delivery = await deliverRun(
      result,
      { scheduled },
      { store, link, ...(notifier && { notifier }) },
    );
    logger.info("run told", {
      delivery: delivery.kind,
      ...(delivery.kind === "digest" && { date: delivery.digest.date, sent: delivery.sent }),
    });
  } catch (error) {
    metrics.addMetric("NotificationFailures", MetricUnit.Count, 1);
    logger.error("the run's digest or alerts could not be sent; its reports are published", {
      error: error instanceof Error ? error : String(error),
    });
  }
}

/**
 * Once the reports are out, the run's partials are deleted and its regeneration released:
 * best effort, for a failure here must not fail (and so retry, and report as failed) a run
 * whose reports are published. The bucket's lifecycle rule expires partials after a day; a
 * regeneration left pending lapses after an hour.
 */
async function cleanUp(
  store: ReportStore,
  partials: Parameters<typeof deletePartials>[1],
  requestId: string | null,
) {
  try {
    await deletePartials(store, partials);
    if (requestId !== null) await finishRegeneration(store, requestId, Date.now());
  } catch (error) {
    logger.warn("the run is published, but its partials or regeneration were not cleaned up", {
      error: error instanceof Error ? error : String(error),
    });
  }
}

async function publish(input: unknown): Promise<ReportOutcome> {
  try {
    const { scans: outputs, ...plan } = publishInput.parse(input);
    const config = report.config();
    // A wrong notification setting fails the step before anything is published.
    notify.config();
    const store = report.store();
    // A retry of a Publish that had in fact finished: its outcome, not a second run.
    const done = reportOutcome.safeParse(await readPublished(store, plan.run_id));
    if (done.success) {
      logger.info("the run was already published", { runId: plan.run_id });
      return done.data;
    }
    if (outputs.length !== plan.sources.length) {
      throw new Error(`${outputs.length} scans for the plan's ${plan.sources.length} sources`);
    }
    // In plan order, each checked to be the source it says it is.
    const scans: ScanResult[] = [];
    for (const [i, source] of plan.sources.entries()) {
      const output = outputs.find((o) => o.index === i);
      if (output === undefined || output.name !== source.name) {
        throw new Error(`no scan of source ${i} (${source.name}) reached Publish`);
      }
      // A partial that is not what its scan wrote will not get better by trying again.
      scans.push(
        await readPartial(store, output.partial, plan.run_id, source.name).catch((e: unknown) => {
          throw new StepFailedError(`${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }),
      );
    }
    const result = await publishPlannedRun(config, plan, scans, { store, log, fetchSecret });
    await tell(result, plan.scheduled, store);
    const outcome = outcomeOf(result, plan.dates, plan.month ?? undefined);
    await markPublished(store, plan.run_id, outcome);
    await cleanUp(
      store,
      outputs.map((o) => o.partial),
      plan.request_id,
    );
    metrics.addMetric("ReportRuns", MetricUnit.Count, 1);
    addRunMetrics(metrics, runFigures(plan.now, Date.now(), result.scan));
    metrics.addMetric("BadRecords", MetricUnit.Count, result.scan.anomalies.skipped);
    publishUsageMetrics(usagePoints(result.reports, result.superseded), plan.run_id);
    logger.info("report run finished", { runId: plan.run_id, ...outcome });
    return outcome;
  } catch (error) {
    metrics.addMetric("ReportFailures", MetricUnit.Count, 1);
    logger.error("report run failed; latest.json was not changed", {
      error: error instanceof Error ? error : String(error),
    });
    throw error instanceof StepFailedError
      ? error
      : stepError("the run could not be published", error);
  }
}

export const handler = middy<unknown, ReportOutcome, Error, Context>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((input) => publish(input));
