import { type Budget, type BudgetRow, dayBudgets, monthBudgets } from "../report/budgets.js";
import { DAY } from "../report/period.js";
import { parseStoredReport } from "../report/stored-schema.js";
import { addDays, datesOfMonth } from "../report/time.js";
import type { PeriodReport } from "../report/types.js";
import type { ReportStore } from "../storage/store.js";

/**
 * The budgets of a run's reports (report.md §11): each day's against its own figures and its
 * month to date — the month's stored daily reports before the run's first date, then the
 * run's own days up to it — and the month report's against its totals. Stored reports are
 * input: one that cannot be read as a report counts as not reported.
 */

/** A report's finest rows, as budgets filter them. */
const rowsOf = (report: PeriodReport["report"]): BudgetRow[] => report.by_source_flavor_pool;

/** The stored daily reports of `firstDate`'s month before it, as budget rows. */
async function storedMonthBefore(store: ReportStore, firstDate: string): Promise<BudgetRow[][]> {
  const days: BudgetRow[][] = [];
  for (let d = `${firstDate.slice(0, 7)}-01`; d < firstDate; d = addDays(d, 1)) {
    const key = DAY.key(d, "report.json");
    const object = await store.get(key);
    if (object === undefined) continue;
    try {
      days.push(
        parseStoredReport(object.body, key, { period: "day", label: d }).by_source_flavor_pool,
      );
    } catch {
      // Not a report: not reported (the page and verify say so of it).
    }
  }
  return days;
}

/** Sets `budgets` on each of the run's reports; nothing without budgets. */
export async function applyBudgets(
  store: ReportStore,
  budgets: readonly Budget[],
  daily: readonly PeriodReport[],
  month: PeriodReport | undefined,
): Promise<void> {
  if (budgets.length === 0) return;
  const first = daily[0]?.report.label;
  const before = first === undefined ? [] : await storedMonthBefore(store, first);
  let current = first?.slice(0, 7);
  let monthToDate: BudgetRow[][] = [...before];
  for (const d of daily) {
    const label = d.report.label;
    if (label.slice(0, 7) !== current) {
      // The range entered a new month: its earlier days are all the run's own.
      current = label.slice(0, 7);
      monthToDate = [];
    }
    monthToDate.push(rowsOf(d.report));
    d.report.budgets = dayBudgets(
      budgets,
      rowsOf(d.report),
      monthToDate,
      datesOfMonth(current).length,
    );
  }
  if (month !== undefined) month.report.budgets = monthBudgets(budgets, rowsOf(month.report));
}
