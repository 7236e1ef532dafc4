import * as z from "zod";
import type { Outcome } from "../modelarts/statuses.js";
import { UsageReportError } from "../shared/errors.js";
import { isValidDate, isValidMonth } from "./time.js";
import type { ReportPeriod, UsageReport } from "./types.js";

/**
 * The one schema of a stored report.json (report.md §5, §9), for a day (`report_date`) and a
 * month (`report_month`): every file read back from storage to be shown goes through it. The
 * bucket is not trusted: a file that someone changed, or that was cut short, must not put its
 * markup on a page or crash a renderer. Fields beyond the schema are dropped (later versions
 * add fields; report.md §9), missing or mistyped ones make the file fail with the path of the
 * first one at fault.
 *
 * The schema is held to the report's type (types.ts) at compile time, below: the reports this
 * service writes always pass it.
 */

const count = z.number().int().min(0);
const hours = z.number().min(0);
const text = z.string();
/** A status code, written as a string key (`failures_by_status`). */
const statusKey = z.string().regex(/^-?[0-9]{1,10}$/);
/** Hours by outcome, every outcome of statuses.ts (held to OUTCOMES by the check at the end). */
const byOutcome = z.object({
  completed: hours,
  failed: hours,
  lost: hours,
  cancelled: hours,
  running: hours,
  unknown: hours,
});

const metricsShape = {
  versions_active: count,
  versions_created: count,
  versions_failed: count,
  failures_by_status: z.record(statusKey, count),
  gpus: count,
  npus: count,
  peak_gpus: count,
  peak_npus: count,
  gpu_hours: hours,
  npu_hours: hours,
  run_hours: hours,
  versions_started: count,
  wait_hours: hours,
  max_wait_hours: hours,
  gpu_hours_by_outcome: byOutcome,
  npu_hours_by_outcome: byOutcome,
  cost: z.number().nullable(),
};
export const storedMetrics = z.object(metricsShape);

const common = {
  schema_version: z.literal(1),
  timezone: text,
  window: z.object({ start: text, end: text }),
  generated_at: text,
  source: z.object({
    endpoint: text,
    project_id: text,
    workspace_id: text.nullable(),
    pool_id: text.nullable(),
    versions_scanned: count,
    pages: count,
  }),
  failure_statuses: z.array(z.number().int()),
  totals: storedMetrics,
  by_flavor: z.array(z.object({ flavor_code: text.nullable(), ...metricsShape })),
  by_pool: z.array(z.object({ pool_id: text.nullable(), ...metricsShape })),
  by_flavor_pool: z.array(
    z.object({ flavor_code: text.nullable(), pool_id: text.nullable(), ...metricsShape }),
  ),
  statuses: z.array(z.object({ status: z.number().int(), name: text, versions: count })),
  anomalies: z.object({
    skipped: count,
    reasons: z.record(text, count),
    unpriced_flavors: z.array(text.nullable()).exactOptional(),
    /** Rows the listing gave more than once; files written before it was counted lack it. */
    duplicate_rows: count.default(0),
  }),
  currency: text.nullable(),
  previous: storedMetrics.nullable(),
  longest_waits: z.array(
    z.object({
      version_id: z.number().int(),
      version_name: text.nullable(),
      flavor_code: text.nullable(),
      pool_id: text.nullable(),
      wait_hours: hours,
    }),
  ),
};

const dayFile = z.object({
  ...common,
  report_date: text.refine(isValidDate, "is not a date (YYYY-MM-DD)"),
});
const monthFile = z.object({
  ...common,
  report_month: text.refine(isValidMonth, "is not a month (YYYY-MM)"),
});

/** A report as read from storage: the report's object model (older files' gaps filled in). */
export type StoredReport = UsageReport;

/** A stored report.json that is not one: its key and the first field at fault. */
export class StoredReportError extends UsageReportError {
  override readonly name = "StoredReportError";
  readonly key: string;
  constructor(key: string, problem: string) {
    super(`the stored ${key} is not a valid report: ${problem}`);
    this.key = key;
  }
}

function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "it does not match the report's schema";
  const path = issue.path.map(String).join(".");
  // The message says what was expected; the value found is never repeated (it may be markup).
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

/**
 * The report in `body`, stored under `key` as the report of `label` (a date, or for a month
 * report a month); `StoredReportError` when it is not JSON, not a report of that period, of
 * another date or month, or any field is missing or of the wrong type.
 */
export function parseStoredReport(
  body: Buffer | string,
  key: string,
  expected: { period: ReportPeriod; label: string },
): StoredReport {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === "string" ? body : body.toString("utf8"));
  } catch {
    throw new StoredReportError(key, "it is not JSON");
  }
  if (expected.period === "month") {
    const parsed = monthFile.safeParse(json);
    if (!parsed.success) throw new StoredReportError(key, firstProblem(parsed.error));
    const { report_month, ...rest } = parsed.data;
    if (report_month !== expected.label) {
      throw new StoredReportError(key, `it is the report of ${report_month}`);
    }
    return { ...rest, period: "month", report_date: report_month };
  }
  const parsed = dayFile.safeParse(json);
  if (!parsed.success) throw new StoredReportError(key, firstProblem(parsed.error));
  if (parsed.data.report_date !== expected.label) {
    throw new StoredReportError(key, `it is the report of ${parsed.data.report_date}`);
  }
  return parsed.data;
}

// The schema and the report's type describe the same file: a report this service writes is a
// stored report, and a stored report is one but for what older files may lack.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const metricsMatch: Same<z.output<typeof storedMetrics>, UsageReport["totals"]> = true;
const reportFits: UsageReport extends StoredReport ? true : false = true;
const fieldsMatch: Same<
  Omit<z.output<typeof dayFile>, "anomalies">,
  Omit<UsageReport, "anomalies" | "period">
> = true;
const outcomesMatch: Same<keyof z.output<typeof byOutcome>, Outcome> = true;
void metricsMatch;
void outcomesMatch;
void reportFits;
void fieldsMatch;
