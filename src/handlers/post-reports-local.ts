import { runConfiguredReport } from "../lib/run.js";
import { finishRegeneration } from "../lib/storage/regenerations.js";
import { postReports } from "./post-reports.js";
import { api, fetchSecret, log, report } from "./runtime.js";

/**
 * POST /reports on the local stage (`npm run dev`): the claimed dates are regenerated here,
 * in-process, with the report settings from the shell; an unset MODELARTS_ENDPOINT means the
 * built-in demo upstream, as for `npm start`. The deployed stages use post-reports.ts, which
 * hands the dates to the report function and carries neither the job nor the simulator.
 */
export const handler = postReports(async (request, claim) => {
  await runConfiguredReport(report.config(), request, {
    now: Date.now(),
    log,
    fetchSecret,
    store: report.store(),
    startDemo: (demoNow) =>
      import("../simulator/demo.js").then((m) => m.startDemoUpstream(demoNow)),
  });
  await finishRegeneration(api.store(), claim.id, Date.now());
});
