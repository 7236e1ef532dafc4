import * as z from "zod";
import { roundHours } from "./format.js";
import { isValidDate } from "./time.js";
import type { UsageReport } from "./types.js";

/**
 * One day of the history (`history.json`, kept by storage/history.ts): its totals and its
 * pools, as the listing and the 30-day view read them. The shape lives here, beside the
 * report it is taken from, so the renderers need nothing of storage.
 */

const totals = z.object({
  versions_active: z.number(),
  versions_failed: z.number(),
  gpu_hours: z.number(),
  npu_hours: z.number(),
  run_hours: z.number(),
  peak_gpus: z.number(),
  peak_npus: z.number(),
  cost: z.number().nullable(),
});
const pool = z.object({
  pool_id: z.string().nullable(),
  gpu_hours: z.number(),
  npu_hours: z.number(),
  versions_failed: z.number(),
  peak_gpus: z.number(),
  peak_npus: z.number(),
});
export const historyDay = z.object({
  date: z.string().refine(isValidDate),
  generated_at: z.string(),
  totals,
  pools: z.array(pool),
});
export type HistoryDay = z.infer<typeof historyDay>;

/** A day's entry, from its report (hours rounded as in the files). Pure. */
export function historyDayOf(
  report: Pick<UsageReport, "report_date" | "generated_at" | "totals" | "by_pool">,
): HistoryDay {
  const t = report.totals;
  return {
    date: report.report_date,
    generated_at: report.generated_at,
    totals: {
      versions_active: t.versions_active,
      versions_failed: t.versions_failed,
      gpu_hours: roundHours(t.gpu_hours),
      npu_hours: roundHours(t.npu_hours),
      run_hours: roundHours(t.run_hours),
      peak_gpus: t.peak_gpus,
      peak_npus: t.peak_npus,
      cost: t.cost,
    },
    pools: report.by_pool.map((p) => ({
      pool_id: p.pool_id,
      gpu_hours: roundHours(p.gpu_hours),
      npu_hours: roundHours(p.npu_hours),
      versions_failed: p.versions_failed,
      peak_gpus: p.peak_gpus,
      peak_npus: p.peak_npus,
    })),
  };
}
