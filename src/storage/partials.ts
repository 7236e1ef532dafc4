import { gunzipSync, gzipSync } from "node:zlib";
import type { JobVersion } from "../modelarts/version-record.js";
import type { ScanResult } from "../scan/scan.js";
import { StorageError } from "../shared/errors.js";
import { sha256Hex } from "./publish.js";
import type { ReportStore } from "./store.js";

/**
 * A source's scan between the ScanSource and Publish steps of a run on Step Functions (issue
 * 21): kept in the store under `runs/<run id>/`, never in the state's payload (256 KB). The
 * file is gzipped JSON of a versioned format — the scan's figures and the versions the report
 * needs, column by column with their strings interned — named by its own SHA-256, so a retried
 * or late attempt can never overwrite another's file, and Publish reads only the bytes the Map
 * state handed it (their size and SHA-256 checked before anything is decoded).
 */

export const PARTIAL_FORMAT = "modelarts-usage-report/partial";
export const PARTIAL_VERSION = 1;
/** The most a partial may hold, decompressed: far beyond a month of a large project. */
export const MAX_PARTIAL_BYTES = 512 * 1024 * 1024;

/** Numbers per version, in this order. */
const FIELDS = 11;

/** What ScanSource hands to Publish through the state machine: where and what the file is. */
export interface PartialRef {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

export const runPrefix = (runId: string): string => `runs/${runId}/`;

/** The file's body: the scan's figures and its versions, encoded. */
export function encodePartial(runId: string, source: string, scan: ScanResult): Buffer {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string | null): number => {
    if (s === null) return -1;
    let id = ids.get(s);
    if (id === undefined) {
      id = strings.length;
      strings.push(s);
      ids.set(s, id);
    }
    return id;
  };
  const columns: number[] = [];
  for (const v of scan.versions.values()) {
    columns.push(
      v.versionId,
      intern(v.versionName),
      v.status,
      v.createTime,
      v.startTime,
      v.endTime,
      v.duration,
      intern(v.flavorCode),
      intern(v.poolId),
      v.gpuNum,
      v.npuNum,
    );
  }
  const { versions: _versions, ...figures } = scan;
  const body = JSON.stringify({
    format: PARTIAL_FORMAT,
    version: PARTIAL_VERSION,
    run_id: runId,
    source,
    scan: figures,
    strings,
    versions: columns,
  });
  return gzipSync(body);
}

/**
 * Writes a source's partial under its run and says where it is. The key holds the body's
 * SHA-256, so two attempts never share a key unless they wrote the same bytes: no condition is
 * needed for a write to be safe (the lock guards what is published, not the partials).
 */
export async function writePartial(
  store: ReportStore,
  runId: string,
  index: number,
  source: string,
  scan: ScanResult,
): Promise<PartialRef> {
  const body = encodePartial(runId, source, scan);
  const sha256 = sha256Hex(body);
  const key = `${runPrefix(runId)}${index}-${sha256.slice(0, 16)}.json.gz`;
  await store.put(key, body, "application/gzip");
  return { key, bytes: body.length, sha256 };
}

/**
 * The scan in the partial at `ref`, for `runId` and `source`: its size and SHA-256 are checked
 * before it is decoded, and every field after (a stored file is input like any other).
 */
export async function readPartial(
  store: ReportStore,
  ref: PartialRef,
  runId: string,
  source: string,
): Promise<ScanResult> {
  if (!ref.key.startsWith(runPrefix(runId))) {
    throw new StorageError(`the partial ${ref.key} is not one of run ${runId}`);
  }
  const object = await store.get(ref.key);
  if (object === undefined) throw new StorageError(`the partial ${ref.key} is missing`);
  if (object.body.length !== ref.bytes || sha256Hex(object.body) !== ref.sha256) {
    throw new StorageError(`the partial ${ref.key} is not the file its scan wrote`);
  }
  let json: unknown;
  try {
    json = JSON.parse(
      gunzipSync(object.body, { maxOutputLength: MAX_PARTIAL_BYTES }).toString("utf8"),
    );
  } catch (cause) {
    throw new StorageError(`the partial ${ref.key} is not gzipped JSON`, { cause });
  }
  return decodePartial(json, ref.key, runId, source);
}

type Figures = Omit<ScanResult, "versions">;

function decodePartial(json: unknown, key: string, runId: string, source: string): ScanResult {
  const bad = (what: string) => new StorageError(`the partial ${key} ${what}`);
  if (typeof json !== "object" || json === null) throw bad("is not an object");
  const p = json as Record<string, unknown>;
  if (p.format !== PARTIAL_FORMAT || p.version !== PARTIAL_VERSION) {
    throw bad(`is not a partial of version ${PARTIAL_VERSION}`);
  }
  if (p.run_id !== runId || p.source !== source) throw bad(`is not ${source}'s of run ${runId}`);
  const figures = checkFigures(p.scan);
  if (figures === undefined) throw bad("has no valid scan figures");
  const strings = p.strings;
  const columns = p.versions;
  if (!Array.isArray(strings) || !strings.every((s) => typeof s === "string")) {
    throw bad("has no valid strings");
  }
  if (!Array.isArray(columns) || columns.length % FIELDS !== 0) throw bad("has no valid versions");
  const text = (i: unknown): string | null => {
    if (i === -1) return null;
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= strings.length) {
      throw bad("names a string it does not hold");
    }
    return strings[i] as string;
  };
  const versions = new Map<number, JobVersion>();
  for (let o = 0; o < columns.length; o += FIELDS) {
    const n = (k: number): number => {
      const value: unknown = columns[o + k];
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        throw bad("holds a field that is not a whole number");
      }
      return value;
    };
    const v: JobVersion = {
      versionId: n(0),
      versionName: text(columns[o + 1]),
      status: n(2),
      createTime: n(3),
      startTime: n(4),
      endTime: n(5),
      duration: n(6),
      flavorCode: text(columns[o + 7]),
      poolId: text(columns[o + 8]),
      gpuNum: n(9),
      npuNum: n(10),
    };
    versions.set(v.versionId, v);
  }
  return { ...figures, versions };
}

function checkFigures(value: unknown): Figures | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const f = value as Record<string, unknown>;
  const names = [
    "versionsScanned",
    "recordsRead",
    "pages",
    "repairPages",
    "totalCountFirst",
    "totalCountLast",
  ] as const;
  if (!names.every((k) => Number.isSafeInteger(f[k]) && (f[k] as number) >= 0)) return undefined;
  const a = f.anomalies as Record<string, unknown> | undefined;
  if (typeof a !== "object" || a === null) return undefined;
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  const reasons = a.reasons as Record<string, unknown> | undefined;
  if (!count(a.skipped) || !count(a.duplicate_rows) || typeof reasons !== "object") {
    return undefined;
  }
  if (reasons === null || !Object.values(reasons).every(count)) return undefined;
  return {
    versionsScanned: f.versionsScanned as number,
    recordsRead: f.recordsRead as number,
    pages: f.pages as number,
    repairPages: f.repairPages as number,
    totalCountFirst: f.totalCountFirst as number,
    totalCountLast: f.totalCountLast as number,
    anomalies: {
      skipped: a.skipped as number,
      duplicate_rows: a.duplicate_rows as number,
      reasons: { ...(reasons as Record<string, number>) },
    },
  };
}

/**
 * Removes a run's partials once it has published. Those of a run that failed are left to the
 * bucket's lifecycle rule on `runs/` (a day), which also takes any a late attempt wrote.
 */
export async function deletePartials(
  store: ReportStore,
  refs: readonly PartialRef[],
): Promise<void> {
  for (const ref of refs) await store.delete(ref.key);
}

/** Where a run that has published says so, beside its partials. */
const publishedKey = (runId: string): string => `${runPrefix(runId)}published.json`;

/**
 * Records that a run has published, with its outcome: a retried Publish that had in fact
 * finished (Lambda answered an error after it ended) finds it, its partials gone, and answers
 * the same outcome instead of failing the run. The lifecycle rule on `runs/` removes it too.
 */
export async function markPublished(
  store: ReportStore,
  runId: string,
  outcome: unknown,
): Promise<void> {
  await store.put(
    publishedKey(runId),
    `${JSON.stringify(outcome)}\n`,
    "application/json; charset=utf-8",
  );
}

/** The outcome a run recorded when it published, as stored (input: the caller parses it). */
export async function readPublished(store: ReportStore, runId: string): Promise<unknown> {
  const object = await store.get(publishedKey(runId));
  if (object === undefined) return undefined;
  try {
    return JSON.parse(object.body.toString("utf8"));
  } catch {
    return undefined;
  }
}
