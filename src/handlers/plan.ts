import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { planRun, type RunPlan } from "../app/steps.js";
import { requestOf } from "./report-event.js";
import { fetchSecret, log, logger, report } from "./runtime.js";
import { stepError } from "./step-errors.js";
import { planInput } from "./step-payloads.js";

/**
 * Plan, the state machine's first step (issue 21): what the execution reports (its input is
 * the schedule's, POST /reports' or a hand-made one, report-event.ts), and the
 * sources with `"*"` expanded through ListWorkspace, each source named in the plan that the Map
 * state fans out. The run's clock is read here, once.
 */

async function plan(input: unknown): Promise<RunPlan> {
  const now = Date.now();
  try {
    const { event, run_id } = planInput.parse(input);
    const config = report.config();
    const request = await requestOf(event, report.store(), now, config.timeZone);
    const planned = await planRun(config, request, { runId: run_id, now }, { log, fetchSecret });
    log.info("run planned", {
      runId: run_id,
      dates: planned.dates,
      month: planned.month,
      sources: planned.sources.map((s) => s.name),
    });
    return planned;
  } catch (error) {
    throw stepError("the run could not be planned", error);
  }
}

export const handler = middy<unknown, RunPlan, Error, Context>()
  .use(injectLambdaContext(logger))
  .handler((input) => plan(input));
