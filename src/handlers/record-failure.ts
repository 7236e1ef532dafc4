import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import * as z from "zod";
import { type BaseConfig, loadBaseConfig } from "../app/config.js";
import { recordRunFailure } from "../app/notify.js";
import { redactText } from "../shared/redact.js";
import { openStore } from "../storage/open-store.js";
import type { ReportStore } from "../storage/store.js";
import { parseReportEvent } from "./report-event.js";
import { lazy, logger } from "./runtime.js";
import { notify } from "./sns-notifier.js";
import { StepTransientError } from "./step-errors.js";

/**
 * RecordFailure, invoked by EventBridge (the stack's RunEndedRule) when an execution of the
 * run ends FAILED or TIMED_OUT (report.md §11): a **scheduled** run's failure becomes a
 * `run_failed` alert in alerts.json, once per scheduled date, told on the stack's topic at
 * once; a regeneration's or a hand-started run's is only the execution's (its caller sees it).
 * The execution itself is left as it ended: its error, its alarm, its redrive.
 */

/**
 * Step Functions' "Step Functions Execution Status Change" event, as EventBridge delivers it:
 * the execution's name, how it ended, its input (a JSON string; `null` when too large to
 * carry) and, for a failure, its error and cause.
 */
export const statusChangeEvent = z.object({
  source: z.literal("aws.states"),
  "detail-type": z.literal("Step Functions Execution Status Change"),
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    name: z.string(),
    status: z.string(),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

/** The execution's input as the run read it; `undefined` when absent or not JSON. */
function executionInput(input: string | null | undefined): unknown {
  if (input === null || input === undefined) return undefined;
  try {
    return JSON.parse(input);
  } catch {
    return undefined;
  }
}

export interface FailureRecord {
  /** The alert's id (`run_failed:<date>`), `null` for a run that was not scheduled. */
  readonly alert: string | null;
  /** Raised and sent by this call (not by an earlier attempt). */
  readonly raised: boolean;
}

const base = {
  config: lazy((): BaseConfig => loadBaseConfig(process.env)),
  store: lazy((): ReportStore => openStore(base.config().storage)),
};

/**
 * The failure's own message: a Lambda error's `errorMessage` (never its stack trace), or a
 * Step Functions error's cause as given; one line, redacted.
 */
export function causeMessage(cause: string | null | undefined): string {
  if (cause === undefined || cause === null) return "";
  let message = cause;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (typeof parsed === "object" && parsed !== null && "errorMessage" in parsed) {
      message = String(parsed.errorMessage);
    }
  } catch {
    // Not JSON: the cause is the message.
  }
  return redactText(message.replace(/\s+/g, " ").trim());
}

async function record(input: unknown): Promise<FailureRecord> {
  const now = Date.now();
  const { detail } = statusChangeEvent.parse(input);
  if (detail.status !== "FAILED" && detail.status !== "TIMED_OUT") {
    return { alert: null, raised: false };
  }
  // An event no run takes (maybe why it failed) was not the schedule's.
  const request = (() => {
    try {
      return parseReportEvent(executionInput(detail.input), now, base.config().timeZone);
    } catch {
      return undefined;
    }
  })();
  const date = request?.dates[0];
  if (request?.scheduled !== true || date === undefined) return { alert: null, raised: false };
  const failure = {
    date,
    error: detail.error ?? (detail.status === "TIMED_OUT" ? "States.Timeout" : "failed"),
    detail: causeMessage(detail.cause),
    execution: detail.name,
  };
  try {
    const recorded = await recordRunFailure(base.store(), notify.notifier(), failure, now);
    logger.error("the scheduled run failed", { runId: detail.name, date, ...recorded });
    return { alert: recorded.alert, raised: recorded.raised };
  } catch (e) {
    // Storage or SNS: the alert waits (raised or not yet), and the retry tells it, or else
    // the next run's message.
    const why = e instanceof Error ? e.message : String(e);
    throw new StepTransientError(`the failed run could not be recorded and told: ${why}`, {
      cause: e,
    });
  }
}

export const handler = middy<unknown, FailureRecord, Error, Context>()
  .use(injectLambdaContext(logger))
  .handler((input) => record(input));
