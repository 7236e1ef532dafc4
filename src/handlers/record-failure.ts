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
 * RecordFailure, where the state machine goes when Plan, a source's scan or Publish failed
 * for good (report.md §11): a **scheduled** run's failure becomes a `run_failed` alert in
 * alerts.json, once per scheduled date, told on the stack's topic at once; a regeneration's
 * or a hand-started run's is only the execution's (its caller sees it). The execution then
 * fails with the original error either way (the RunFailed state), so the stack's alarm on
 * failed executions still fires.
 */

/** As the state machine hands it over: the execution's input and name, and the caught error. */
export const failureInput = z.strictObject({
  event: z.unknown(),
  run_id: z.string(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
});

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
export function causeMessage(cause: string | undefined): string {
  if (cause === undefined) return "";
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
  const { event, run_id, error } = failureInput.parse(input);
  // An event no run takes (maybe why it failed) was not the schedule's.
  const request = (() => {
    try {
      return parseReportEvent(event, now, base.config().timeZone);
    } catch {
      return undefined;
    }
  })();
  const date = request?.dates[0];
  if (request?.scheduled !== true || date === undefined) return { alert: null, raised: false };
  const failure = {
    date,
    error: error.Error,
    detail: causeMessage(error.Cause),
    execution: run_id,
  };
  try {
    const recorded = await recordRunFailure(base.store(), notify.notifier(), failure, now);
    logger.error("the scheduled run failed", { runId: run_id, date, ...recorded });
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
