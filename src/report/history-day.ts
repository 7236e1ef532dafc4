import * as z from "zod";
import { pickRounded } from "./fields.js";
import { DAY } from "./period.js";
import { metricsShapeOf } from "./stored-schema.js";
import type { UsageReport } from "./types.js";

/**
 * One day of the history (`history.json`, kept by storage/history.ts): its totals and its
 * pools, as the listing and the 30-day view read them. The shape lives here, beside the
 * report it is taken from, so the renderers need nothing of storage. Which metrics it keeps is
 * listed here, in the order they are written; how each is checked and rounded is the table of
 * fields' (fields.ts), as in report.json.
 */

const TOTALS = [
  "versions_active",
  "versions_failed",
  "gpu_hours",
  "npu_hours",
  "run_hours",
  "peak_gpus",
  "peak_npus",
  "cost",
] as const;
const POOL = ["gpu_hours", "npu_hours", "versions_failed", "peak_gpus", "peak_npus"] as const;
/** Each source's totals (§10), for the 30-day view by source. */
const SOURCE = TOTALS;

const totals = z.object(metricsShapeOf(TOTALS));
const pool = z.object({ pool_id: z.string().nullable(), ...metricsShapeOf(POOL) });
const source = z.object({ source: z.string(), ...metricsShapeOf(SOURCE) });
export const historyDay = z.object({
  date: z.string().refine(DAY.isLabel),
  generated_at: z.string(),
  totals,
  pools: z.array(pool),
  /** Entries written before sources existed (§10) have none. */
  sources: z.array(source).default([]),
});
export type HistoryDay = z.infer<typeof historyDay>;

/** A day's entry, from its report (hours rounded as in the files). Pure. */
export function historyDayOf(
  report: Pick<UsageReport, "label" | "generated_at" | "totals" | "by_pool" | "by_source">,
): HistoryDay {
  return {
    date: report.label,
    generated_at: report.generated_at,
    totals: pickRounded(report.totals, TOTALS),
    pools: report.by_pool.map((p) => ({ pool_id: p.pool_id, ...pickRounded(p, POOL) })),
    sources: report.by_source.map((r) => ({ source: r.source ?? "", ...pickRounded(r, SOURCE) })),
  };
}
