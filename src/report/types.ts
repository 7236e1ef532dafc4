import type { BudgetState } from "./budgets.js";
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
export interface SourceRow extends GroupRow<"by_source"> {}
export interface SourceFlavorPoolRow extends GroupRow<"by_source_flavor_pool"> {}

export interface StatusCount {
  status: number;
  name: string;
  versions: number;
}

/** A source's own anomalies (§10 `anomalies.by_source`). */
export interface SourceAnomalies {
  skipped: number;
  duplicate_rows: number;
}

export interface Anomalies {
  skipped: number;
  /** Rows of the listing beyond the first that repeat a version already listed (§4). */
  duplicate_rows: number;
  reasons: Record<string, number>;
  /** Flavors in the report that the price table does not price (§9); empty without a table. */
  unpriced_flavors?: (string | null)[];
  /** Each source's own (§10); the counts above are their sums. */
  by_source?: Record<string, SourceAnomalies>;
}

/** A version that waited long for its accelerators, for the page. */
export interface QueueWait {
  /** The version's source (§10); reports stored before sources existed lack it. */
  source?: string;
  version_id: number;
  version_name: string | null;
  flavor_code: string | null;
  pool_id: string | null;
  wait_hours: number;
}

/**
 * What the versions came from. With one source, its listing; with several (§10), the sums of
 * `versions_scanned` and `pages`, and `null` for the rest.
 */
export interface ReportSource {
  endpoint: string | null;
  project_id: string | null;
  workspace_id: string | null;
  pool_id: string | null;
  versions_scanned: number;
  pages: number;
}

/** One source of the run (§10 `sources`), in configuration order after expansion. */
export interface SourceInfo {
  name: string;
  endpoint: string;
  project_id: string;
  workspace_id: string | null;
  pool_id: string | null;
  versions_scanned: number;
  pages: number;
  total_count_first: number;
  total_count_last: number;
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
  /** §10: the run's sources; empty in reports stored before sources existed. */
  sources: SourceInfo[];
  by_source: SourceRow[];
  by_source_flavor_pool: SourceFlavorPoolRow[];
  anomalies: Anomalies;
  /** The price table's currency; `null` without one. */
  currency: string | null;
  /** The previous day's (month's) totals, when that report exists; for the change. */
  previous: Metrics | null;
  /** The longest queue waits of versions started in the window, longest first (at most 10). */
  longest_waits: QueueWait[];
  /** §11: each configured budget's state in this report; empty without budgets. */
  budgets: BudgetState[];
}

export type { JobRow } from "./job-rows.js";

/** Everything the renderers need for one report: a day's or a month's. */
export interface PeriodReport {
  report: UsageReport;
  /** Ordered by source (configuration order), then version id. */
  jobs: JobRows;
}

/** The data files of a day or month, in the order they are written (sources.csv: §10). */
export const REPORT_FILES = ["report.json", "usage.csv", "jobs.csv", "sources.csv"] as const;
/** Written after the data files and before latest.json (§9). */
export const MANIFEST_FILE = "manifest.json";
/** What the download routes serve: the data files and the manifest to check them against. */
export const DOWNLOADABLE_FILES = [...REPORT_FILES, MANIFEST_FILE] as const;
export type ReportFileName = (typeof REPORT_FILES)[number];
