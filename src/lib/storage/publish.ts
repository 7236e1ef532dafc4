import { createHash } from "node:crypto";
import { z } from "zod";
import { StorageError } from "../errors.js";
import { MANIFEST_FILE, type Metrics, REPORT_FILES, type ReportFileName } from "../report/types.js";
import type { ReportStore } from "./store.js";

/**
 * The file layout of report.md §5 and the rule for `latest.json`: written last, only after
 * all files of its date are stored, and never moved to an older date.
 */

export const LATEST_KEY = "latest.json";

export function dailyKey(date: string, name: string): string {
  return `daily/${date}/${name}`;
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

export type LatestPointer = z.infer<typeof latestSchema>;

export type RenderedFiles = Record<ReportFileName, string>;

/** Stores the three files of a date, in order. Throws StorageError naming the file on failure. */
export async function writeDailyFiles(
  store: ReportStore,
  date: string,
  files: RenderedFiles,
): Promise<Record<ReportFileName, string>> {
  const keys = {} as Record<ReportFileName, string>;
  for (const name of REPORT_FILES) {
    const key = dailyKey(date, name);
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
const manifestSchema = z.object({
  report_date: z.string(),
  generated_at: z.string(),
  files: z.record(z.string(), fileEntry),
  completeness: z.object({
    total_count_first: z.number(),
    total_count_last: z.number(),
    versions_scanned: z.number(),
    complete: z.boolean(),
  }),
});
export type Manifest = z.infer<typeof manifestSchema>;

export function sha256Hex(body: string | Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}

export function buildManifest(
  date: string,
  generatedAt: string,
  files: RenderedFiles,
  completeness: Completeness,
): Manifest {
  const entries: Manifest["files"] = {};
  for (const name of REPORT_FILES) {
    const body = files[name];
    entries[name] = {
      key: dailyKey(date, name),
      bytes: Buffer.byteLength(body),
      sha256: sha256Hex(body),
    };
  }
  return { report_date: date, generated_at: generatedAt, files: entries, completeness };
}

export function parseManifest(body: Buffer, where: string): Manifest {
  try {
    return manifestSchema.parse(JSON.parse(body.toString("utf8")));
  } catch (cause) {
    throw new StorageError(`${where} is not a valid manifest`, { cause });
  }
}

/** Stores the manifest of a date, after its data files and before latest.json. */
export async function writeManifest(store: ReportStore, manifest: Manifest): Promise<string> {
  const key = dailyKey(manifest.report_date, MANIFEST_FILE);
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
export async function readReportTotals(store: ReportStore, date: string): Promise<Metrics | null> {
  const object = await store.get(dailyKey(date, "report.json"));
  if (object === undefined) return null;
  try {
    const json: unknown = JSON.parse(object.body.toString("utf8"));
    const totals = z.object({ totals: storedMetrics }).safeParse(json);
    return totals.success ? totals.data.totals : null;
  } catch {
    return null;
  }
}

/** The pointer in `body`, or `undefined` when it is not one (not JSON, or not the shape). */
function parsePointer(body: Buffer): LatestPointer | undefined {
  try {
    const parsed = latestSchema.safeParse(JSON.parse(body.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function readLatest(store: ReportStore): Promise<LatestPointer | undefined> {
  const object = await store.get(LATEST_KEY);
  if (object === undefined) return undefined;
  const pointer = parsePointer(object.body);
  if (pointer === undefined)
    throw new StorageError(`${LATEST_KEY} in ${store.url} is not a valid pointer`);
  return pointer;
}

/**
 * Points `latest.json` at `candidate` unless it already names a newer date, and returns the
 * pointer in force afterwards. `latestAllowed` is the run's own yesterday: a candidate after it
 * is refused (a report of a day that has not ended must never become "latest", since the
 * pointer never moves back), and a stored pointer after it (written before that rule) is
 * replaced as if it were damaged. The write is conditional on the pointer read (If-Match), so
 * two runs cannot both move it from the same state: the one that loses reads again and decides
 * anew.
 */
export async function updateLatest(
  store: ReportStore,
  candidate: LatestPointer,
  opts: { latestAllowed: string },
): Promise<LatestPointer> {
  if (candidate.report_date > opts.latestAllowed) {
    throw new StorageError(
      `refusing to point ${LATEST_KEY} at ${candidate.report_date}, a date that has not ended (the latest possible is ${opts.latestAllowed})`,
    );
  }
  const body = `${JSON.stringify(candidate, null, 2)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const object = await store.get(LATEST_KEY);
    // A pointer that cannot be read (edited by hand, say) or that names a day that cannot have
    // been complete is replaced rather than blocking every later run: the candidate's files
    // are complete, so it is a valid pointer.
    const current = object === undefined ? undefined : parsePointer(object.body);
    const trusted =
      current !== undefined && current.report_date <= opts.latestAllowed ? current : undefined;
    if (trusted !== undefined && trusted.report_date > candidate.report_date) return trusted;
    const written = await store.putIf(
      LATEST_KEY,
      body,
      CONTENT_TYPES["report.json"],
      object?.etag ?? null,
    );
    if (written !== undefined) return candidate;
  }
  throw new StorageError(`${LATEST_KEY} in ${store.url} kept changing while it was updated`);
}
