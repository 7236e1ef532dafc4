import { createHash } from "node:crypto";
import * as z from "zod";
import { StorageError } from "../errors.js";
import {
  MANIFEST_FILE,
  type Metrics,
  REPORT_FILES,
  type ReportFileName,
  type ReportPeriod,
} from "../report/types.js";
import type { ReportStore } from "./store.js";

/**
 * The file layout of report.md §5 and the rule for `latest.json`: written last, only after
 * all files of its date are stored, and never moved to an older date. Month reports follow the
 * same rules under `monthly/YYYY-MM/` with `latest-month.json`.
 */

export const LATEST_KEY = "latest.json";
export const LATEST_MONTH_KEY = "latest-month.json";

export function dailyKey(date: string, name: string): string {
  return `daily/${date}/${name}`;
}

export function monthlyKey(month: string, name: string): string {
  return `monthly/${month}/${name}`;
}

/** The key of a report file of a day (`label` a date) or a month (`label` a month). */
export function reportKey(period: ReportPeriod, label: string, name: string): string {
  return period === "month" ? monthlyKey(label, name) : dailyKey(label, name);
}

export const CONTENT_TYPES: Record<ReportFileName | typeof MANIFEST_FILE, string> = {
  "report.json": "application/json; charset=utf-8",
  "manifest.json": "application/json; charset=utf-8",
  "usage.csv": "text/csv; charset=utf-8",
  "jobs.csv": "text/csv; charset=utf-8",
};

const latestSchema = z.object({
  report_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  generated_at: z.string(),
  files: z.record(z.string(), z.string()),
});
const latestMonthSchema = z.object({
  report_month: z.string().regex(/^\d{4}-\d{2}$/),
  generated_at: z.string(),
  files: z.record(z.string(), z.string()),
});

export type LatestPointer = z.infer<typeof latestSchema>;
export type LatestMonthPointer = z.infer<typeof latestMonthSchema>;

export type RenderedFiles = Record<ReportFileName, string>;

/** Stores the three files of a date, in order. Throws StorageError naming the file on failure. */
export function writeDailyFiles(
  store: ReportStore,
  date: string,
  files: RenderedFiles,
): Promise<Record<ReportFileName, string>> {
  return writeReportFiles(store, "day", date, files);
}

/** Stores the three files of a day or a month, in order. */
export async function writeReportFiles(
  store: ReportStore,
  period: ReportPeriod,
  label: string,
  files: RenderedFiles,
): Promise<Record<ReportFileName, string>> {
  const keys = {} as Record<ReportFileName, string>;
  for (const name of REPORT_FILES) {
    const key = reportKey(period, label, name);
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
}

const fileEntry = z.object({
  key: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const manifestBody = {
  generated_at: z.string(),
  files: z.record(z.string(), fileEntry),
  completeness: z.object({
    total_count_first: z.number(),
    total_count_last: z.number(),
    versions_scanned: z.number(),
    complete: z.boolean(),
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
  date: string,
  generatedAt: string,
  files: RenderedFiles,
  completeness: Completeness,
  period: ReportPeriod = "day",
): Manifest {
  const entries: Manifest["files"] = {};
  for (const name of REPORT_FILES) {
    const body = files[name];
    entries[name] = {
      key: reportKey(period, date, name),
      bytes: Buffer.byteLength(body),
      sha256: sha256Hex(body),
    };
  }
  const rest = { generated_at: generatedAt, files: entries, completeness };
  return period === "month" ? { report_month: date, ...rest } : { report_date: date, ...rest };
}

export function parseManifest(body: Buffer, where: string): Manifest {
  try {
    return manifestSchema.parse(JSON.parse(body.toString("utf8")));
  } catch (cause) {
    throw new StorageError(`${where} is not a valid manifest`, { cause });
  }
}

/** Stores the manifest of a date (or month), after its data files and before latest.json. */
export async function writeManifest(store: ReportStore, manifest: Manifest): Promise<string> {
  const key =
    "report_month" in manifest
      ? monthlyKey(manifest.report_month, MANIFEST_FILE)
      : dailyKey(manifest.report_date, MANIFEST_FILE);
  await store.put(key, `${JSON.stringify(manifest, null, 2)}\n`, CONTENT_TYPES[MANIFEST_FILE]);
  return key;
}

const hoursByOutcome = z.object({
  completed: z.number(),
  failed: z.number(),
  lost: z.number(),
  cancelled: z.number(),
  running: z.number(),
  unknown: z.number(),
});
const storedMetrics = z.object({
  versions_active: z.number(),
  versions_created: z.number(),
  versions_failed: z.number(),
  failures_by_status: z.record(z.string(), z.number()),
  gpus: z.number(),
  npus: z.number(),
  peak_gpus: z.number(),
  peak_npus: z.number(),
  gpu_hours: z.number(),
  npu_hours: z.number(),
  run_hours: z.number(),
  versions_started: z.number(),
  wait_hours: z.number(),
  max_wait_hours: z.number(),
  gpu_hours_by_outcome: hoursByOutcome,
  npu_hours_by_outcome: hoursByOutcome,
  cost: z.number().nullable(),
});

/**
 * The totals of a stored report, for `previous` (§9); `null` when there is no report for that
 * date or it predates the fields compared (an older schema is not an error here).
 */
export async function readReportTotals(
  store: ReportStore,
  date: string,
  period: ReportPeriod = "day",
): Promise<Metrics | null> {
  const object = await store.get(reportKey(period, date, "report.json"));
  if (object === undefined) return null;
  try {
    const json: unknown = JSON.parse(object.body.toString("utf8"));
    const totals = z.object({ totals: storedMetrics }).safeParse(json);
    return totals.success ? totals.data.totals : null;
  } catch {
    return null;
  }
}

/** The value `schema` reads from `body`, or `undefined` when it is not one. */
function parseWith<T>(schema: z.ZodType<T>, body: Buffer): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(body.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function readPointer<T>(
  store: ReportStore,
  key: string,
  schema: z.ZodType<T>,
): Promise<T | undefined> {
  const object = await store.get(key);
  if (object === undefined) return undefined;
  const pointer = parseWith(schema, object.body);
  if (pointer === undefined)
    throw new StorageError(`${key} in ${store.url} is not a valid pointer`);
  return pointer;
}

export function readLatest(store: ReportStore): Promise<LatestPointer | undefined> {
  return readPointer(store, LATEST_KEY, latestSchema);
}

export function readLatestMonth(store: ReportStore): Promise<LatestMonthPointer | undefined> {
  return readPointer(store, LATEST_MONTH_KEY, latestMonthSchema);
}

/**
 * Points `key` at `candidate` unless it already names a newer period, and returns the pointer
 * in force afterwards. `latestAllowed` is the newest period that has ended for the run: a
 * candidate after it is refused (a report of a period that has not ended must never become
 * "latest", since the pointer never moves back), and a stored pointer after it (written before
 * that rule) is replaced as if it were damaged. The write is conditional on the pointer read
 * (If-Match), so two runs cannot both move it from the same state: the one that loses reads
 * again and decides anew.
 */
async function updatePointer<T>(
  store: ReportStore,
  key: string,
  schema: z.ZodType<T>,
  labelOf: (pointer: T) => string,
  candidate: T,
  latestAllowed: string,
): Promise<T> {
  const label = labelOf(candidate);
  if (label > latestAllowed) {
    throw new StorageError(
      `refusing to point ${key} at ${label}, which has not ended (the latest possible is ${latestAllowed})`,
    );
  }
  const body = `${JSON.stringify(candidate, null, 2)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const object = await store.get(key);
    // A pointer that cannot be read (edited by hand, say) or that names a period that cannot
    // have been complete is replaced rather than blocking every later run: the candidate's
    // files are complete, so it is a valid pointer.
    const current = object === undefined ? undefined : parseWith(schema, object.body);
    const trusted =
      current !== undefined && labelOf(current) <= latestAllowed ? current : undefined;
    if (trusted !== undefined && labelOf(trusted) > label) return trusted;
    const written = await store.putIf(
      key,
      body,
      CONTENT_TYPES["report.json"],
      object?.etag ?? null,
    );
    if (written !== undefined) return candidate;
  }
  throw new StorageError(`${key} in ${store.url} kept changing while it was updated`);
}

/** Points latest.json at a date; `latestAllowed` is the run's own yesterday. */
export function updateLatest(
  store: ReportStore,
  candidate: LatestPointer,
  opts: { latestAllowed: string },
): Promise<LatestPointer> {
  return updatePointer(
    store,
    LATEST_KEY,
    latestSchema,
    (p) => p.report_date,
    candidate,
    opts.latestAllowed,
  );
}

/** Points latest-month.json at a month; `latestAllowed` is the run's last ended month. */
export function updateLatestMonth(
  store: ReportStore,
  candidate: LatestMonthPointer,
  opts: { latestAllowed: string },
): Promise<LatestMonthPointer> {
  return updatePointer(
    store,
    LATEST_MONTH_KEY,
    latestMonthSchema,
    (p) => p.report_month,
    candidate,
    opts.latestAllowed,
  );
}
