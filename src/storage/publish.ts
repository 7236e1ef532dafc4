import { createHash } from "node:crypto";
import * as z from "zod";
import { DAY, MONTH, type Period, type PeriodRef, periodOf } from "../report/period.js";
import { storedMetrics } from "../report/stored-schema.js";
import { MANIFEST_FILE, type Metrics, REPORT_FILES, type ReportFileName } from "../report/types.js";
import { StorageError } from "../shared/errors.js";
import type { ReportStore } from "./store.js";

/**
 * The file layout of report.md §5 and the rule for `latest.json`: written last, only after
 * all files of its date are stored, and never moved to an older date. Month reports follow the
 * same rules under `monthly/YYYY-MM/` with `latest-month.json`. Where each period's files and
 * pointer are, and what they call its label, is the period's (report/period.ts).
 */

export function dailyKey(date: string, name: string): string {
  return DAY.key(date, name);
}

export function monthlyKey(month: string, name: string): string {
  return MONTH.key(month, name);
}

/** The key of a report file of a day (`label` a date) or a month (`label` a month). */
export function reportKey(period: PeriodRef, label: string, name: string): string {
  return periodOf(period).key(label, name);
}

/** The label a manifest or pointer names in `period`'s label field, if it names one. */
export function labelIn(period: Period, record: object): string | undefined {
  const label: unknown = (record as Record<string, unknown>)[period.labelField];
  return typeof label === "string" ? label : undefined;
}

export const CONTENT_TYPES: Record<ReportFileName | typeof MANIFEST_FILE, string> = {
  "report.json": "application/json; charset=utf-8",
  "manifest.json": "application/json; charset=utf-8",
  "usage.csv": "text/csv; charset=utf-8",
  "jobs.csv": "text/csv; charset=utf-8",
  "sources.csv": "text/csv; charset=utf-8",
};

export type RenderedFiles = Record<ReportFileName, string>;

/**
 * Stores the three files of a day or a month, in order. Throws StorageError naming the file on
 * failure.
 */
export async function writeReportFiles(
  store: ReportStore,
  period: Period,
  label: string,
  files: RenderedFiles,
): Promise<Record<ReportFileName, string>> {
  const keys = {} as Record<ReportFileName, string>;
  for (const name of REPORT_FILES) {
    const key = period.key(label, name);
    await store.put(key, files[name], CONTENT_TYPES[name]);
    keys[name] = key;
  }
  return keys;
}

/** What a scan can say about its own completeness (§9). */
export interface Completeness {
  total_count_first: number;
  total_count_last: number;
  versions_scanned: number;
  /** At least min(first, last) distinct versions were read: a cheap guard against a short scan. */
  complete: boolean;
  /** Each source's own four figures (§10); `complete` above holds only when all of theirs do. */
  by_source?: Record<string, SourceCompleteness>;
}

export interface SourceCompleteness {
  total_count_first: number;
  total_count_last: number;
  versions_scanned: number;
  complete: boolean;
}

const fileEntry = z.object({
  key: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const sourceCompleteness = {
  total_count_first: z.number(),
  total_count_last: z.number(),
  versions_scanned: z.number(),
  complete: z.boolean(),
};
const manifestBody = {
  generated_at: z.string(),
  /**
   * When the scan the files were made from started, by the writer's clock (the run's `now`).
   * Under the run lock a run does not replace a report made from a later scan. Missing in
   * manifests written before it existed.
   */
  scan_started_at: z.string().optional(),
  files: z.record(z.string(), fileEntry),
  completeness: z.object({
    ...sourceCompleteness,
    by_source: z.record(z.string(), z.object(sourceCompleteness)).exactOptional(),
  }),
};
const manifestSchema = z.union([
  z.object({ report_date: z.string(), ...manifestBody }),
  z.object({ report_month: z.string(), ...manifestBody }),
]);
export type Manifest = z.infer<typeof manifestSchema>;

export function sha256Hex(body: string | Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The manifest of a day (`report_date`) or a month (`report_month`). */
export function buildManifest(
  period: Period,
  label: string,
  times: { generatedAt: string; scanStartedAt: string },
  files: RenderedFiles,
  completeness: Completeness,
): Manifest {
  const entries: Manifest["files"] = {};
  for (const name of REPORT_FILES) {
    const body = files[name];
    entries[name] = {
      key: period.key(label, name),
      bytes: Buffer.byteLength(body),
      sha256: sha256Hex(body),
    };
  }
  const rest = {
    generated_at: times.generatedAt,
    scan_started_at: times.scanStartedAt,
    files: entries,
    completeness,
  };
  // The label's field first, as the manifest has always been written.
  return { [period.labelField]: label, ...rest } as Manifest;
}

export function parseManifest(body: Buffer, where: string): Manifest {
  try {
    return manifestSchema.parse(JSON.parse(body.toString("utf8")));
  } catch (cause) {
    throw new StorageError(`${where} is not a valid manifest`, { cause });
  }
}

/** The stored manifest of a day or month, or `undefined` when it is missing or not one. */
async function readManifest(
  store: ReportStore,
  period: Period,
  label: string,
): Promise<{ manifest: Manifest; modifiedAt: number } | undefined> {
  const key = period.key(label, MANIFEST_FILE);
  const object = await store.get(key);
  if (object === undefined) return undefined;
  let manifest: Manifest;
  try {
    manifest = parseManifest(object.body, key);
  } catch {
    return undefined;
  }
  return labelIn(period, manifest) === label
    ? { manifest, modifiedAt: object.modifiedAt }
    : undefined;
}

/**
 * When the scan of the stored report of a day or month started (epoch ms), or `undefined`
 * when there is no readable manifest saying so (then it counts as older than any run). The
 * stated time is the writer's clock; it is capped at the time the store wrote the manifest
 * (S3's Last-Modified, by the server's clock; a file's mtime), since no scan starts after its
 * manifest is written: a writer whose clock ran ahead cannot pin a report for longer than
 * its clock was off.
 */
export async function storedScanStart(
  store: ReportStore,
  period: Period,
  label: string,
): Promise<number | undefined> {
  const stored = await readManifest(store, period, label);
  const stated = Date.parse(stored?.manifest.scan_started_at ?? "");
  if (stored === undefined || Number.isNaN(stated)) return undefined;
  return Math.min(stated, stored.modifiedAt);
}

/**
 * Whether a whole report of a day or month is stored: a manifest that names it and says the
 * scan was complete, and each of its data files present. (Checking the files' bytes is
 * `verify`'s job; this is the cheap check a pointer needs.)
 */
export async function isCompleteReport(
  store: ReportStore,
  period: Period,
  label: string,
): Promise<boolean> {
  const stored = await readManifest(store, period, label);
  if (stored === undefined || !stored.manifest.completeness.complete) return false;
  // The files its manifest lists: a report written before sources.csv existed is whole
  // without it.
  for (const name of REPORT_FILES) {
    const listed = stored.manifest.files[name];
    if (listed === undefined && name !== "sources.csv") return false;
    if (listed !== undefined && !(await store.has(period.key(label, name)))) return false;
  }
  return true;
}

/**
 * Stores the manifest of a date (or month) of `period`, after its data files and before
 * latest.json.
 */
export async function writeManifest(
  store: ReportStore,
  period: Period,
  manifest: Manifest,
): Promise<string> {
  const label = labelIn(period, manifest);
  if (label === undefined)
    throw new StorageError(`a ${period.kind} manifest without its ${period.noun}`);
  const key = period.key(label, MANIFEST_FILE);
  await store.put(key, `${JSON.stringify(manifest, null, 2)}\n`, CONTENT_TYPES[MANIFEST_FILE]);
  return key;
}

/**
 * The totals of a stored report, for `previous` (§9); `null` when there is no report for that
 * date (month) or it predates the fields compared (an older schema is not an error here).
 */
export async function readReportTotals(
  store: ReportStore,
  period: Period,
  label: string,
): Promise<Metrics | null> {
  const object = await store.get(period.key(label, "report.json"));
  if (object === undefined) return null;
  try {
    const json: unknown = JSON.parse(object.body.toString("utf8"));
    const totals = z.object({ totals: storedMetrics }).safeParse(json);
    return totals.success ? totals.data.totals : null;
  } catch {
    return null;
  }
}
