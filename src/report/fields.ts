import { OUTCOMES, type Outcome } from "../modelarts/statuses.js";
import { formatCents, formatHoursFixed, roundHours } from "./format.js";

/**
 * The report's metrics (report.md §3, §9), written once: each field's name, its kind, and
 * whether usage.csv has it. The kind says everything else: the value's type, how report.json
 * rounds it, how the CSV files write it, and (stored-schema.ts) how a stored file is checked.
 * From this table come the `Metrics` type, the stored-file schema, the metrics of report.json
 * and history.json, and the metric columns of usage.csv. The order is report.json's; usage.csv
 * takes the same order without the fields it leaves out. Pure, no dependencies beyond the
 * formatters (this is on the renderers' path).
 */

/** How a metric is held, rounded and written. */
export type MetricKind = "count" | "hours" | "cost" | "byStatus" | "byOutcome";

/** The value of each kind, as held in a report and written to report.json. */
export interface MetricValue {
  /** A whole number of versions or accelerators. */
  count: number;
  /** Held unrounded; 6 decimals in the files. */
  hours: number;
  /** In the price table's currency, rounded to cents; `null` without a price table. */
  cost: number | null;
  /** Failure status code (as a string) → count; every code of the failure set is present. */
  byStatus: Record<string, number>;
  /** Hours by how the version ended up (its current status), all six outcomes. */
  byOutcome: Record<Outcome, number>;
}

export interface MetricField {
  readonly name: string;
  readonly kind: MetricKind;
  /**
   * usage.csv: `true` writes one column named as the field, or for a by-outcome field one per
   * outcome named `<field without _by_outcome>_<outcome>` (`gpu_hours_completed`); `false`
   * leaves it out.
   */
  readonly csv: boolean;
}

export const METRIC_FIELDS = [
  { name: "versions_active", kind: "count", csv: true },
  { name: "versions_created", kind: "count", csv: true },
  { name: "versions_failed", kind: "count", csv: true },
  { name: "failures_by_status", kind: "byStatus", csv: false },
  { name: "gpus", kind: "count", csv: true },
  { name: "npus", kind: "count", csv: true },
  { name: "peak_gpus", kind: "count", csv: true },
  { name: "peak_npus", kind: "count", csv: true },
  { name: "gpu_hours", kind: "hours", csv: true },
  { name: "npu_hours", kind: "hours", csv: true },
  { name: "run_hours", kind: "hours", csv: true },
  /** Versions whose start_time is in the window (§9). */
  { name: "versions_started", kind: "count", csv: true },
  /** Σ (start_time − create_time) in hours over versions started in the window. */
  { name: "wait_hours", kind: "hours", csv: true },
  { name: "max_wait_hours", kind: "hours", csv: true },
  { name: "gpu_hours_by_outcome", kind: "byOutcome", csv: true },
  { name: "npu_hours_by_outcome", kind: "byOutcome", csv: false },
  { name: "cost", kind: "cost", csv: true },
] as const satisfies readonly MetricField[];

type Fields = (typeof METRIC_FIELDS)[number];
export type MetricName = Fields["name"];
/** The kind of each metric, by name. */
export type KindOf<N extends MetricName> = Extract<Fields, { name: N }>["kind"];

/**
 * The metrics of a report, a group of it (a flavor, a pool, both) or the day before: the
 * table's fields with the values of their kinds. Hours are held unrounded; the renderers round
 * them when they write.
 */
export type Metrics = { [F in Fields as F["name"]]: MetricValue[F["kind"]] };

/** A value of `kind` as report.json writes it: hours rounded to 6 decimals, records copied. */
const ROUND: { readonly [K in MetricKind]: (value: MetricValue[K]) => MetricValue[K] } = {
  count: (n) => n,
  hours: roundHours,
  cost: (c) => c,
  byStatus: (counts) => ({ ...counts }),
  byOutcome: (hours) =>
    Object.fromEntries(OUTCOMES.map((o) => [o, roundHours(hours[o])])) as Record<Outcome, number>,
};

const KIND_BY_NAME: ReadonlyMap<string, MetricKind> = new Map(
  METRIC_FIELDS.map((f) => [f.name, f.kind]),
);

/** One metric of `m` as report.json writes it. */
export function roundedValue<N extends MetricName>(m: Metrics, name: N): Metrics[N] {
  // The table gives each name its kind, and `Metrics` gives it that kind's value.
  const round = ROUND[KIND_BY_NAME.get(name) as MetricKind] as (v: unknown) => Metrics[N];
  return round(m[name]);
}

/**
 * The metrics named, in the order given, as report.json writes them (sums were taken before
 * rounding). `roundedMetrics` is every metric, in the table's order.
 */
export function pickRounded<const N extends readonly MetricName[]>(
  m: Metrics,
  names: N,
): { [K in N[number]]: Metrics[K] } {
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = roundedValue(m, name);
  return out as { [K in N[number]]: Metrics[K] };
}

const ALL_NAMES = METRIC_FIELDS.map((f) => f.name);

/** Every metric in the order of report.md §3, hours rounded to 6 decimals. */
export function roundedMetrics(m: Metrics): Metrics {
  return pickRounded(m, ALL_NAMES);
}

/** A CSV cell: a number written as it is, or text. */
export type Cell = string | number;

/** How the CSV files write a value of each scalar kind (issue 18: decimals always written). */
export const CSV_FORMAT = {
  count: (n: number): Cell => n,
  /** Always six decimals: `12.000000`. */
  hours: (h: number): Cell => formatHoursFixed(h),
  /** Always two decimals; empty without a price table or a price. */
  cost: (c: number | null): Cell => (c === null ? "" : formatCents(c)),
} as const;

interface CsvColumn {
  readonly header: string;
  readonly cell: (m: Metrics) => Cell;
}

function csvColumns(field: MetricField): CsvColumn[] {
  const name = field.name as MetricName;
  const kind = field.kind;
  switch (kind) {
    case "count":
    case "hours":
      return [{ header: name, cell: (m) => CSV_FORMAT[kind](m[name] as number) }];
    case "cost":
      return [{ header: name, cell: (m) => CSV_FORMAT.cost(m[name] as number | null) }];
    case "byOutcome": {
      const base = name.replace(/_by_outcome$/, "");
      return OUTCOMES.map((o) => ({
        header: `${base}_${o}`,
        cell: (m) => CSV_FORMAT.hours((m[name] as Record<Outcome, number>)[o]),
      }));
    }
    case "byStatus":
      throw new TypeError(`${name}: a record by status has no CSV column`);
  }
}

/** The metric columns of usage.csv, in order, each with how it writes a row's value. */
export const USAGE_METRIC_COLUMNS: readonly CsvColumn[] = METRIC_FIELDS.filter(
  (f) => f.csv,
).flatMap(csvColumns);

/**
 * The groups of a report (§5) and the fields that name a row of each, before its metrics:
 * report.json's `by_flavor`, `by_pool` and `by_flavor_pool`; usage.csv has a row per flavor
 * and pool.
 */
export const GROUP_KEYS = {
  by_flavor: ["flavor_code"],
  by_pool: ["pool_id"],
  by_flavor_pool: ["flavor_code", "pool_id"],
  /** Per source (§10): one row per source, zero-usage sources included. */
  by_source: ["source"],
  /** Per source, flavor and pool (§10): groups with at least one version; sources.csv's rows. */
  by_source_flavor_pool: ["source", "flavor_code", "pool_id"],
} as const;
export type Group = keyof typeof GROUP_KEYS;

/** A row of a group: its naming fields (`null` where the API gave none), then its metrics. */
export type GroupRow<G extends Group> = {
  [K in (typeof GROUP_KEYS)[G][number]]: string | null;
} & Metrics;
