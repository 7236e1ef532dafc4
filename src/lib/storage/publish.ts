import { z } from "zod";
import { StorageError } from "../errors.js";
import { REPORT_FILES, type ReportFileName } from "../report/types.js";
import type { ReportStore } from "./store.js";

/**
 * The file layout of report.md §5 and the rule for `latest.json`: written last, only after
 * all files of its date are stored, and never moved to an older date.
 */

export const LATEST_KEY = "latest.json";

export function dailyKey(date: string, name: string): string {
  return `daily/${date}/${name}`;
}

export const CONTENT_TYPES: Record<ReportFileName, string> = {
  "report.json": "application/json; charset=utf-8",
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

export async function readLatest(store: ReportStore): Promise<LatestPointer | undefined> {
  const object = await store.get(LATEST_KEY);
  if (object === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(object.body.toString("utf8"));
  } catch (cause) {
    throw new StorageError(`${LATEST_KEY} in ${store.url} is not valid JSON`, { cause });
  }
  const parsed = latestSchema.safeParse(json);
  if (!parsed.success)
    throw new StorageError(`${LATEST_KEY} in ${store.url} is not a valid pointer`);
  return parsed.data;
}

/**
 * Points `latest.json` at `candidate` unless it already names a newer date. Returns the
 * pointer in force afterwards. (Overlapping runs are serialised by the deployment: the report
 * function runs one at a time.)
 */
export async function updateLatest(
  store: ReportStore,
  candidate: LatestPointer,
): Promise<LatestPointer> {
  const current = await readLatest(store);
  if (current !== undefined && current.report_date > candidate.report_date) return current;
  await store.put(
    LATEST_KEY,
    `${JSON.stringify(candidate, null, 2)}\n`,
    CONTENT_TYPES["report.json"],
  );
  return candidate;
}
