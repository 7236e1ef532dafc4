import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { jsonResponse } from "../api/http.js";
import { parseRegeneration, type Regeneration } from "../api/regeneration-request.js";
import { ROUTES } from "../api/routes.js";
import { datesOfMonth } from "../report/time.js";
import { ConfigError } from "../shared/errors.js";
import {
  claimRegeneration,
  finishRegeneration,
  type PendingRegeneration,
} from "../storage/regenerations.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import type { ReportEvent } from "./report-event.js";
import { api, lazy, logger } from "./runtime.js";

/**
 * POST /reports: regenerate a date or a range (report.md §7). The dates are first claimed in
 * the regeneration queue, so an overlapping POST gets 409 while they are pending; then they
 * are handed to `dispatch`. Deployed (this module's `handler`), that starts an execution of
 * the report state machine (Plan → ScanSource per source → Publish) named by the claim's id;
 * on the local stage (post-reports-local.ts) the job runs in-process. The split keeps the
 * report job and the demo upstream out of the deployed function's bundle.
 */

/** Hands claimed dates over; a dispatch that throws frees the claim again. */
export type Dispatch = (request: Regeneration, claim: PendingRegeneration) => Promise<void>;

const sfn = lazy(() => new SFNClient({}));

/**
 * Starts the run as an execution named by the claim's id, which Publish releases when it has
 * written the dates. Idempotent: the SDK may send StartExecution again after a reply was lost,
 * and the name is this claim's alone, with the input made from it, so an execution already
 * under that name is this one (Step Functions answers ExecutionAlreadyExists once it has ended).
 */
const startExecution: Dispatch = async (request, claim) => {
  const stateMachineArn = api.config().reportStateMachineArn;
  if (stateMachineArn === null) {
    throw new ConfigError("REPORT_STATE_MACHINE_ARN is required to hand regenerations over");
  }
  const input: ReportEvent =
    request.month === undefined
      ? { dates: request.dates, request_id: claim.id }
      : { month: request.month, request_id: claim.id };
  try {
    await sfn().send(
      new StartExecutionCommand({ stateMachineArn, name: claim.id, input: JSON.stringify(input) }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    logger.info("the run was started already", { id: claim.id });
  }
};

export function postReports(dispatch: Dispatch) {
  return httpHandler(ROUTES.postReports, async (event) => {
    const config = api.config();
    const now = Date.now();
    // The body was parsed by the JSON body middleware.
    const body: unknown = event.body;
    const request = parseRegeneration(body, { now, timeZone: config.timeZone });
    // A month claims all of its dates: a regeneration of one of them overlaps it.
    const claimed = request.month === undefined ? request.dates : datesOfMonth(request.month);
    // 409 or 429 (RegenerationPendingError, RegenerationQueueFullError) when it cannot be.
    const claim = await claimRegeneration(api.store(), claimed, now);
    try {
      await dispatch(request, claim);
    } catch (error) {
      // Nothing was queued, or the local run failed: free the dates so a retry is not refused.
      await finishRegeneration(api.store(), claim.id, Date.now());
      throw error;
    }
    logger.info("regeneration accepted", { dates: `${claim.from}..${claim.to}`, id: claim.id });
    return toApiGateway(
      jsonResponse(
        202,
        request.month === undefined ? { dates: request.dates } : { month: request.month },
      ),
    );
  });
}

export const handler = postReports(startExecution);
