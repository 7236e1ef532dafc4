import type { GroupRow, Metrics } from "./fields.js";
import type { JobRows } from "./job-rows.js";
import type { PeriodKind } from "./period.js";

/**
 * The report's object model (report.md §3, §5). Field names are those of report.json. The
 * metrics and the groups come from the table of fields (fields.ts).
 */
export type { Metrics } from "./fields.js";

export interface FlavorRow extends GroupRow<"by_flavor"> {}
export interface PoolRow extends GroupRow<"by_pool"> {}
export interface FlavorPoolRow extends GroupRow<"by_flavor_pool"> {}

export interface StatusCount {
  status: number;
  name: string;
  versions: number;
}

export interface Anomalies {
  skipped: number;
  /** Rows of the listing beyond the first that repeat a version already listed (§4). */
  duplicate_rows: number;
  reasons: Record<string, number>;
  /** Flavors in the report that the price table does not price (§9); empty without a table. */
  unpriced_flavors?: (string | null)[];
}

/** A version that waited long for its accelerators, for the page. */
export interface QueueWait {
  version_id: number;
  version_name: string | null;
  flavor_code: string | null;
  pool_id: string | null;
  wait_hours: number;
}

export interface ReportSource {
  endpoint: string;
  project_id: string;
  workspace_id: string | null;
  pool_id: string | null;
  versions_scanned: number;
  pages: number;
}

/** What a report covers, by kind; the descriptor of each kind is in period.ts. */
export type ReportPeriod = PeriodKind;

export interface UsageReport {
  schema_version: 1;
  /**
   * What the report covers (not written to report.json, whose label field says it: a month's
   * is `report_month`). Read it with `periodOfReport` (period.ts), never by comparing it.
   */
  period: ReportPeriod;
  /**
   * The period's label: a date (`YYYY-MM-DD`) or a month (`YYYY-MM`); written under the
   * period's label field (`report_date`, `report_month`).
   */
  label: string;
  timezone: string;
  /** The window's bounds as ISO 8601 with the time zone's offset. */
  window: { start: string; end: string };
  generated_at: string;
  source: ReportSource;
  failure_statuses: number[];
  totals: Metrics;
  by_flavor: FlavorRow[];
  by_pool: PoolRow[];
  by_flavor_pool: FlavorPoolRow[];
  statuses: StatusCount[];
  anomalies: Anomalies;
  /** The price table's currency; `null` without one. */
  currency: string | null;
  /** The previous day's (month's) totals, when that report exists; for the change. */
  previous: Metrics | null;
  /** The longest queue waits of versions started in the window, longest first (at most 10). */
  longest_waits: QueueWait[];
}

export type { JobRow } from "./job-rows.js";

/** Everything the renderers need for one report: a day's or a month's. */
export interface PeriodReport {
  report: UsageReport;
  /** Ordered by version id ascending. */
  jobs: JobRows;
}

/** The three data files of a day, in the order they are written. */
export const REPORT_FILES = ["report.json", "usage.csv", "jobs.csv"] as const;
/** Written after the data files and before latest.json (§9). */
export const MANIFEST_FILE = "manifest.json";
/** What the download routes serve: the data files and the manifest to check them against. */
export const DOWNLOADABLE_FILES = [...REPORT_FILES, MANIFEST_FILE] as const;
export type ReportFileName = (typeof REPORT_FILES)[number];
