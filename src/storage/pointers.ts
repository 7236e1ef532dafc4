import * as z from "zod";
import { DAY, MONTH, type Period, type PeriodRef, periodOf } from "../report/period.js";
import { isValidDate, isValidMonth } from "../report/time.js";
import { StorageError } from "../shared/errors.js";
import { type Log, silentLog } from "../shared/log.js";
import { CONTENT_TYPES, isCompleteReport, labelIn } from "./publish.js";
import type { ReportStore } from "./store.js";

/**
 * The pointers `latest.json` and `latest-month.json` (report.md §5, §9): written last, only
 * after all files of their period are stored, never moved back to an earlier period over a
 * complete report, and repaired only when no correct writer could have written them.
 */

export const LATEST_KEY = DAY.latestKey;
export const LATEST_MONTH_KEY = MONTH.latestKey;

// A pointer names a date (month) that exists: `2026-02-30` or `2026-13` is no pointer.
const latestSchema = z.object({
  report_date: z.string().refine(isValidDate),
  generated_at: z.string(),
  files: z.record(z.string(), z.string()),
});
const latestMonthSchema = z.object({
  report_month: z.string().refine(isValidMonth),
  generated_at: z.string(),
  files: z.record(z.string(), z.string()),
});

export type LatestPointer = z.infer<typeof latestSchema>;
export type LatestMonthPointer = z.infer<typeof latestMonthSchema>;

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

/**
 * One of the two pointers: the period it points into (its key, its label field and which of
 * its labels a writer may trust, from report/period.ts) and the schema it is read with.
 */
interface PointerKind<T> {
  readonly period: Period;
  readonly schema: z.ZodType<T>;
}

const DAY_POINTER: PointerKind<LatestPointer> = { period: DAY, schema: latestSchema };
const MONTH_POINTER: PointerKind<LatestMonthPointer> = { period: MONTH, schema: latestMonthSchema };
const POINTERS = new Map<Period, PointerKind<object>>(
  [DAY_POINTER, MONTH_POINTER].map((kind) => [kind.period, kind]),
);

/** The label a pointer read with its kind's schema names. */
function pointerLabel<T extends object>(kind: PointerKind<T>, pointer: T): string {
  return labelIn(kind.period, pointer) as string;
}

export function readLatest(store: ReportStore): Promise<LatestPointer | undefined> {
  return readPointer(store, DAY_POINTER.period.latestKey, DAY_POINTER.schema);
}

export function readLatestMonth(store: ReportStore): Promise<LatestMonthPointer | undefined> {
  return readPointer(store, MONTH_POINTER.period.latestKey, MONTH_POINTER.schema);
}

/**
 * The date (month) the latest pointer of `period` names, or `undefined` when none is written
 * yet; StorageError when it is not a pointer.
 */
export async function readLatestLabel(
  store: ReportStore,
  period: PeriodRef,
): Promise<string | undefined> {
  const p = periodOf(period);
  const kind = POINTERS.get(p) as PointerKind<object>;
  const pointer = await readPointer(store, p.latestKey, kind.schema);
  return pointer === undefined ? undefined : pointerLabel(kind, pointer);
}

/** The writer's own clock and zone, which bound what it may write and what it trusts. */
export interface PointerWriter {
  readonly now: number;
  readonly timeZone: string;
  readonly log?: Log | undefined;
}

/**
 * Why the stored pointer may be replaced by an older `label`, or `undefined` when it must
 * stay: it names a complete report no later than what a correct writer could have written.
 */
async function whyReplaceable<T extends object>(
  store: ReportStore,
  kind: PointerKind<T>,
  current: T | undefined,
  latestPossible: string,
): Promise<string | undefined> {
  if (current === undefined) return "it cannot be read";
  const label = pointerLabel(kind, current);
  if (!kind.period.isLabel(label))
    return `it names ${JSON.stringify(label)}, which is not a period`;
  if (label > latestPossible) {
    return `it names ${label}, after ${latestPossible}: no writer could have written it yet (a clock ahead?)`;
  }
  if (!(await isCompleteReport(store, kind.period, label))) {
    return `it names ${label}, whose report is missing or incomplete`;
  }
  return undefined;
}

/**
 * Points the pointer at `candidate` unless it already names a newer period, and returns the
 * pointer in force afterwards. The rules (issue 18):
 * - a run never writes a period that has not ended for it (after its own yesterday / last
 *   ended month): a pointer never moves back, so a wrong one would stay;
 * - a stored pointer that parses and names a complete report never moves to an earlier
 *   period, even when it is after this writer's yesterday: another writer's zone or clock may
 *   be ahead of ours;
 * - it is repaired (replaced by an older candidate) only when no correct writer could have
 *   written it: it cannot be read, its report is missing, or it names a period after this
 *   writer's today + 1 day.
 * The write is conditional on the pointer read (If-Match), so two runs cannot both move it
 * from the same state: the one that loses reads again and decides anew.
 */
async function updatePointer<T extends object>(
  store: ReportStore,
  kind: PointerKind<T>,
  candidate: T,
  writer: PointerWriter,
): Promise<T> {
  const { period } = kind;
  const label = pointerLabel(kind, candidate);
  const latestAllowed = period.latestAllowed(writer.now, writer.timeZone);
  if (label > latestAllowed) {
    throw new StorageError(
      `refusing to point ${period.latestKey} at ${label}, which has not ended (the latest possible is ${latestAllowed})`,
    );
  }
  const latestPossible = period.latestPossible(writer.now, writer.timeZone);
  const log = writer.log ?? silentLog;
  const body = `${JSON.stringify(candidate, null, 2)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const object = await store.get(period.latestKey);
    const current = object === undefined ? undefined : parseWith(kind.schema, object.body);
    if (object !== undefined && (current === undefined || pointerLabel(kind, current) > label)) {
      const why = await whyReplaceable(store, kind, current, latestPossible);
      if (why === undefined && current !== undefined) return current;
      log.warn(`replacing ${period.latestKey}: ${why}`, { store: store.url, with: label });
    }
    const written = await store.putIf(
      period.latestKey,
      body,
      CONTENT_TYPES["report.json"],
      object?.etag ?? null,
    );
    if (written !== undefined) return candidate;
  }
  throw new StorageError(`${period.latestKey} in ${store.url} kept changing while it was updated`);
}

/** Points latest.json at a date of a complete report written by this run. */
export function updateLatest(
  store: ReportStore,
  candidate: LatestPointer,
  writer: PointerWriter,
): Promise<LatestPointer> {
  return updatePointer(store, DAY_POINTER, candidate, writer);
}

/** Points latest-month.json at a month of a complete report written by this run. */
export function updateLatestMonth(
  store: ReportStore,
  candidate: LatestMonthPointer,
  writer: PointerWriter,
): Promise<LatestMonthPointer> {
  return updatePointer(store, MONTH_POINTER, candidate, writer);
}
