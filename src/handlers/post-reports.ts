import { InvocationType, InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { jsonResponse } from "../lib/api/http.js";
import { parseRegeneration, type Regeneration } from "../lib/api/regeneration-request.js";
import { HttpError } from "../lib/errors.js";
import { datesOfMonth } from "../lib/report/time.js";
import {
  claimRegeneration,
  finishRegeneration,
  type PendingRegeneration,
  RegenerationPendingError,
} from "../lib/storage/regenerations.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import type { ReportEvent } from "./report-event.js";
import { api, fetchSecret, lazy, log, logger, report } from "./runtime.js";

/**
 * POST /reports: regenerate a date or a range (report.md §7). Deployed, the dates go to the
 * report function as an asynchronous invocation (one run at a time there); locally the job
 * runs here, in-process. Either way the dates are first claimed in the regeneration queue, so
 * an overlapping POST gets 409 while they are pending.
 */

const lambda = lazy(() => new LambdaClient({}));

async function runHere(request: Regeneration, claim: PendingRegeneration): Promise<void> {
  // Loaded only on the local stage: the deployed function hands the run over instead.
  const { runConfiguredReport } = await import("../lib/run.js");
  try {
    await runConfiguredReport(report.config(), request, {
      now: Date.now(),
      log,
      fetchSecret,
      store: report.store(),
      // The local stage's in-process run: the demo when no endpoint is set, as `npm start`.
      startDemo: (demoNow) =>
        import("../simulator/demo.js").then((m) => m.startDemoUpstream(demoNow)),
    });
  } finally {
    await finishRegeneration(api.store(), claim.id, Date.now());
  }
}

export const handler = httpHandler(
  async (event) => {
    const config = api.config();
    const now = Date.now();
    // The body was parsed by the JSON body middleware.
    const body: unknown = event.body;
    const request = parseRegeneration(body, { now, timeZone: config.timeZone });
    // A month claims all of its dates: a regeneration of one of them overlaps it.
    const claimed = request.month === undefined ? request.dates : datesOfMonth(request.month);
    let claim: PendingRegeneration;
    try {
      claim = await claimRegeneration(api.store(), claimed, now);
    } catch (error) {
      if (error instanceof RegenerationPendingError) {
        throw new HttpError(
          409,
          "regeneration_pending",
          error.message,
          {},
          {
            pending: error.pending.map((p) => ({
              from: p.from,
              to: p.to,
              accepted_at: p.accepted_at,
              expires_at: p.expires_at,
            })),
          },
        );
      }
      throw error;
    }
    if (config.reportFunctionName !== null) {
      const payload: ReportEvent =
        request.month === undefined
          ? { dates: request.dates, request_id: claim.id }
          : { month: request.month, request_id: claim.id };
      try {
        await lambda().send(
          new InvokeCommand({
            FunctionName: config.reportFunctionName,
            InvocationType: InvocationType.Event,
            Payload: Buffer.from(JSON.stringify(payload)),
          }),
        );
      } catch (error) {
        // Nothing was queued: free the dates again so that a retry is not refused.
        await finishRegeneration(api.store(), claim.id, Date.now());
        throw error;
      }
    } else {
      await runHere(request, claim);
    }
    logger.info("regeneration accepted", { dates: `${claim.from}..${claim.to}`, id: claim.id });
    return toApiGateway(
      jsonResponse(
        202,
        request.month === undefined ? { dates: request.dates } : { month: request.month },
      ),
    );
  },
  { jsonBody: true },
);
