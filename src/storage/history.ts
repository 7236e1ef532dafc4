import * as z from "zod";
import { type HistoryDay, historyDay, historyDayOf } from "../report/history-day.js";
import { DAY } from "../report/period.js";
import { parseStoredReport, StoredReportError } from "../report/stored-schema.js";
import { StorageError } from "../shared/errors.js";
import { type Log, silentLog } from "../shared/log.js";
import type { ReportStore } from "./store.js";

/**
 * A compact history of the daily reports in storage, `history.json` at the root: for each
 * reported day, its totals and the GPU-/NPU-hours, failures and peaks by pool. It feeds the
 * listing (GET /reports, without opening every report.json) and the 30-day trend on the pages.
 * Each run merges its days in at its end, under the run lock, with a conditional write;
 * `npm run reindex` rebuilds it from the daily files if it is ever lost or damaged (a run that
 * finds it missing rebuilds it too, so the first run of a release that adds it sees every day).
 */

export const HISTORY_KEY = "history.json";

const historySchema = z.object({ schema_version: z.literal(1), days: z.array(historyDay) });

function parse(body: Buffer): HistoryDay[] | undefined {
  try {
    const parsed = historySchema.safeParse(JSON.parse(body.toString("utf8")));
    return parsed.success ? parsed.data.days : undefined;
  } catch {
    return undefined;
  }
}

/** The days of the history, ascending; `undefined` when it is missing or damaged. */
export async function readHistory(store: ReportStore): Promise<HistoryDay[] | undefined> {
  const object = await store.get(HISTORY_KEY);
  return object === undefined ? undefined : parse(object.body);
}

function serialise(days: readonly HistoryDay[]): string {
  return `${JSON.stringify({ schema_version: 1, days })}\n`;
}

/** The history as the daily files say it is: every readable report.json. */
export async function historyFromFiles(
  store: ReportStore,
  log: Log = silentLog,
): Promise<{ days: HistoryDay[]; skipped: string[] }> {
  const days: HistoryDay[] = [];
  const skipped: string[] = [];
  for (const date of (await store.listFolders(DAY.folder)).filter(DAY.isLabel).sort()) {
    const key = DAY.key(date, "report.json");
    const object = await store.get(key);
    if (object === undefined) continue; // a folder without its report.json yet
    try {
      // Through the one schema of the report, as the API reads it: a file the API would
      // refuse to show is not counted in the history either.
      days.push(historyDayOf(parseStoredReport(object.body, key, { period: DAY, label: date })));
    } catch (error) {
      if (!(error instanceof StoredReportError)) throw error;
      skipped.push(date);
      log.warn("skipped a stored report.json that cannot be read", { key, reason: error.message });
    }
  }
  return { days, skipped };
}

/**
 * Merges `written` into the history (a day written again replaces its entry), with a write
 * conditional on the history read, retried when another writer got there first. A history
 * that is missing or damaged is first rebuilt from the daily files.
 */
export async function updateHistory(
  store: ReportStore,
  written: readonly HistoryDay[],
  log: Log = silentLog,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const object = await store.get(HISTORY_KEY);
    let days = object === undefined ? undefined : parse(object.body);
    if (days === undefined) {
      if (object !== undefined) log.warn(`${HISTORY_KEY} could not be read; rebuilding it`);
      days = (await historyFromFiles(store, log)).days;
    }
    const byDate = new Map(days.map((d) => [d.date, d]));
    for (const d of written) byDate.set(d.date, d);
    const merged = [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
    const stored = await store.putIf(
      HISTORY_KEY,
      serialise(merged),
      "application/json",
      object?.etag ?? null,
    );
    if (stored !== undefined) return;
  }
  throw new StorageError(`${HISTORY_KEY} in ${store.url} kept changing while it was updated`);
}

/** `npm run reindex`: replaces the history with what the daily files say. */
export async function rebuildHistory(
  store: ReportStore,
  log: Log = silentLog,
): Promise<{ days: number; skipped: string[] }> {
  const { days, skipped } = await historyFromFiles(store, log);
  await store.put(HISTORY_KEY, serialise(days), "application/json");
  return { days: days.length, skipped };
}
