import * as z from "zod";
import { OUTCOMES, type Outcome } from "../modelarts/statuses.js";
import { UsageReportError } from "../shared/errors.js";
import { BUDGET_METRICS } from "./budgets.js";
import {
  GROUP_KEYS,
  type Group,
  METRIC_FIELDS,
  type MetricKind,
  type MetricName,
  type Metrics,
} from "./fields.js";
import { PERIODS, type Period, type PeriodRef, periodField, periodOf } from "./period.js";
import type { UsageReport } from "./types.js";

/**
 * The one schema of a stored report.json (report.md §5, §9), for a day (`report_date`) and a
 * month (`report_month`): every file read back from storage to be shown goes through it. The
 * bucket is not trusted: a file that someone changed, or that was cut short, must not put its
 * markup on a page or crash a renderer. Fields beyond the schema are dropped (later versions
 * add fields; report.md §9), missing or mistyped ones make the file fail with the path of the
 * first one at fault.
 *
 * The metrics' schemas come from the table of fields (fields.ts), each field checked by its
 * kind; the rest is held to the report's type (types.ts) at compile time, below: the reports
 * this service writes always pass it.
 */

const count = z.number().int().min(0);
const hours = z.number().min(0);
const text = z.string();
/** A status code, written as a string key (`failures_by_status`). */
const statusKey = z.string().regex(/^-?[0-9]{1,10}$/);
/** Hours by outcome, every outcome of statuses.ts. */
const byOutcome = z.object(
  Object.fromEntries(OUTCOMES.map((o) => [o, hours])) as Record<Outcome, typeof hours>,
);

/** How a stored value of each kind of metric is checked. */
const KIND_SCHEMAS = {
  count,
  hours,
  cost: z.number().nullable(),
  byStatus: z.record(statusKey, count),
  byOutcome,
} as const satisfies Record<MetricKind, z.ZodType>;

type KindOfName<N extends MetricName> = Extract<
  (typeof METRIC_FIELDS)[number],
  { name: N }
>["kind"];
type ShapeOf<N extends MetricName> = { [K in N]: (typeof KIND_SCHEMAS)[KindOfName<K>] };

/** The schemas of the metrics named, each by its kind (fields.ts), in the order given. */
export function metricsShapeOf<const N extends readonly MetricName[]>(
  names: N,
): ShapeOf<N[number]> {
  const kinds = new Map<string, MetricKind>(METRIC_FIELDS.map((f) => [f.name, f.kind]));
  return Object.fromEntries(
    names.map((name) => [name, KIND_SCHEMAS[kinds.get(name) as MetricKind]]),
  ) as ShapeOf<N[number]>;
}

const metricsShape = metricsShapeOf(METRIC_FIELDS.map((f) => f.name));
export const storedMetrics = z.object(metricsShape);

/** A group's rows: the fields naming each (a string or `null`), then its metrics. */
function groupRows<G extends Group>(group: G) {
  const keys = Object.fromEntries(GROUP_KEYS[group].map((k) => [k, text.nullable()])) as {
    [K in (typeof GROUP_KEYS)[G][number]]: z.ZodNullable<typeof text>;
  };
  return z.array(z.object({ ...keys, ...metricsShape }));
}

const common = {
  schema_version: z.literal(1),
  timezone: text,
  window: z.object({ start: text, end: text }),
  generated_at: text,
  source: z.object({
    endpoint: text.nullable(),
    project_id: text.nullable(),
    workspace_id: text.nullable(),
    pool_id: text.nullable(),
    versions_scanned: count,
    pages: count,
  }),
  /** §10; files written before sources existed lack these three (read as empty). */
  sources: z
    .array(
      z.object({
        name: text,
        endpoint: text,
        project_id: text,
        workspace_id: text.nullable(),
        pool_id: text.nullable(),
        versions_scanned: count,
        pages: count,
        total_count_first: count,
        total_count_last: count,
      }),
    )
    .default([]),
  failure_statuses: z.array(z.number().int()),
  totals: storedMetrics,
  by_flavor: groupRows("by_flavor"),
  by_pool: groupRows("by_pool"),
  by_flavor_pool: groupRows("by_flavor_pool"),
  by_source: groupRows("by_source").default([]),
  by_source_flavor_pool: groupRows("by_source_flavor_pool").default([]),
  statuses: z.array(z.object({ status: z.number().int(), name: text, versions: count })),
  anomalies: z.object({
    skipped: count,
    reasons: z.record(text, count),
    unpriced_flavors: z.array(text.nullable()).exactOptional(),
    /** Rows the listing gave more than once; files written before it was counted lack it. */
    duplicate_rows: count.default(0),
    by_source: z.record(text, z.object({ skipped: count, duplicate_rows: count })).exactOptional(),
  }),
  currency: text.nullable(),
  previous: storedMetrics.nullable(),
  longest_waits: z.array(
    z.object({
      source: text.exactOptional(),
      version_id: z.number().int(),
      version_name: text.nullable(),
      flavor_code: text.nullable(),
      pool_id: text.nullable(),
      wait_hours: hours,
    }),
  ),
  /** §11; files written before budgets existed lack it (read as none). */
  budgets: z
    .array(
      z.object({
        name: text,
        period: z.enum(["day", "month"]),
        metric: z.enum(BUDGET_METRICS),
        limit: z.number().nonnegative(),
        actual: z.number(),
        forecast: z.number().nullable(),
        state: z.enum(["ok", "forecast_over", "over"]),
      }),
    )
    .default([]),
};

/** Every field of the file but the one naming its date or month. */
const reportFields = z.object(common);
type StoredFields = z.output<typeof reportFields>;

/** The file of a period: its fields, and its label under the period's label field. */
function fileSchema(period: Period) {
  const label = text.refine(period.isLabel, `is not a ${period.noun} (${period.format})`);
  return z.object({ ...common, [period.labelField]: label });
}
const FILE_SCHEMAS = new Map(Object.values(PERIODS).map((p) => [p, fileSchema(p)]));

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
  expected: { period: PeriodRef; label: string },
): StoredReport {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === "string" ? body : body.toString("utf8"));
  } catch {
    throw new StoredReportError(key, "it is not JSON");
  }
  const period = periodOf(expected.period);
  const parsed = (FILE_SCHEMAS.get(period) as ReturnType<typeof fileSchema>).safeParse(json);
  if (!parsed.success) throw new StoredReportError(key, firstProblem(parsed.error));
  // The schema is `reportFields` and the label field, which it checked is a label.
  const { [period.labelField]: label, ...rest } = parsed.data as StoredFields &
    Record<string, unknown>;
  if (label !== expected.label) throw new StoredReportError(key, `it is the report of ${label}`);
  return { ...(rest as StoredFields), ...periodField(period), label: label as string };
}

// The schema and the report's type describe the same file: a report this service writes is a
// stored report, and a stored report is one but for what older files may lack.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const metricsMatch: Same<z.output<typeof storedMetrics>, Metrics> = true;
const reportFits: UsageReport extends StoredReport ? true : false = true;
const fieldsMatch: Same<
  Omit<StoredFields, "anomalies">,
  Omit<UsageReport, "anomalies" | "period" | "label">
> = true;
const outcomesMatch: Same<keyof z.output<typeof byOutcome>, Outcome> = true;
void metricsMatch;
void outcomesMatch;
void reportFits;
void fieldsMatch;
