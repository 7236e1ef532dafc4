import {
  type AlertCandidate,
  budgetAlerts,
  failureAlert,
  SPIKE_DAYS,
} from "../report/alert-rules.js";
import { addDays } from "../report/time.js";
import type { PeriodReport } from "../report/types.js";
import { type Alert, raiseAlerts } from "../storage/alerts.js";
import { readHistory } from "../storage/history.js";
import type { ReportStore } from "../storage/store.js";

/**
 * The alerts of the days a run wrote (report.md §11): their budgets in `forecast_over` or
 * `over`, and a spike of failures against the reported days among the 14 before each (from
 * history.json, which the run has just brought up to date). Raised once each; returns those
 * raised now.
 */
export async function alertsOfRun(
  store: ReportStore,
  written: readonly PeriodReport[],
  now: number,
): Promise<Alert[]> {
  if (written.length === 0) return [];
  const history = (await readHistory(store).catch(() => undefined)) ?? [];
  const failedOn = new Map(history.map((d) => [d.date, d.totals.versions_failed]));
  const candidates: AlertCandidate[] = [];
  for (const { report } of written) {
    candidates.push(...budgetAlerts(report));
    const before: number[] = [];
    for (let i = 1; i <= SPIKE_DAYS; i++) {
      const failed = failedOn.get(addDays(report.label, -i));
      if (failed !== undefined) before.push(failed);
    }
    const spike = failureAlert(report.label, report.totals.versions_failed, before);
    if (spike !== undefined) candidates.push(spike);
  }
  return raiseAlerts(store, candidates, now);
}
