import type { Regeneration } from "../api/regeneration-request.js";
import { runConfiguredReport } from "../app/run.js";
import { finishRegeneration, type PendingRegeneration } from "../storage/regenerations.js";
import { postReports } from "./post-reports.js";
import { api, fetchSecret, log, logger, report } from "./runtime.js";

/**
 * POST /reports on the local stage (`npm run dev`): the claimed dates are regenerated in this
 * process, with the report settings from the shell; an unset MODELARTS_ENDPOINT means the
 * built-in demo upstream, as for `npm start`. The deployed stages use post-reports.ts, which
 * starts an execution of the state machine and carries neither the job nor the simulator.
 *
 * As deployed, where the hand-over is the start of an execution, the POST answers 202 once
 * the dates are claimed and the job runs afterwards, in the background of the dev process:
 * awaiting it here made a slow scan outlast the local function's 29 s timeout (a 504 with
 * serverless-offline's stack trace, the dates left pending). Jobs run one at a time, as the
 * deployed Publish does (reserved concurrency 1), so two POSTs never race for the run lock.
 * Each job's outcome goes to the log, and its pending entry is released when it ends, written
 * or failed. (serverless-offline keeps an idle function's worker for `terminateIdleLambdaTime`
 * seconds, set in serverless.yml longer than a job may take.)
 */

/** The jobs accepted so far, each started when the one before has ended. */
let queue: Promise<void> = Promise.resolve();

async function regenerate(request: Regeneration, claim: PendingRegeneration): Promise<void> {
  const dates = `${claim.from}..${claim.to}`;
  try {
    await runConfiguredReport(report.config(), request, {
      now: Date.now(),
      log,
      fetchSecret,
      store: report.store(),
      startDemo: (demoNow) =>
        import("../simulator/demo.js").then((m) => m.startDemoOrganisation(demoNow)),
    });
    logger.info("regeneration finished", { dates, id: claim.id });
  } catch (error) {
    logger.error("regeneration failed", {
      dates,
      id: claim.id,
      error: error instanceof Error ? error : String(error),
    });
  } finally {
    try {
      await finishRegeneration(api.store(), claim.id, Date.now());
    } catch (error) {
      // It expires on its own; nothing else can be done from here.
      logger.error("could not release the pending regeneration", {
        dates,
        id: claim.id,
        error: error instanceof Error ? error : String(error),
      });
    }
  }
}

export const handler = postReports(async (request, claim) => {
  // A bad report setting fails this POST (and frees the dates), not a job nobody waits for.
  report.config();
  report.store();
  queue = queue.then(() => regenerate(request, claim));
});
