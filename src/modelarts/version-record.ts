import { createHash } from "node:crypto";

/** One training-job version as the report uses it: every field parsed and typed. */
export interface JobVersion {
  readonly versionId: number;
  readonly versionName: string | null;
  readonly status: number;
  /** Epoch milliseconds. */
  readonly createTime: number;
  /** Epoch ms; 0 when the version never started. */
  readonly startTime: number;
  /** Epoch ms; 0 while running or when it never ran. */
  readonly endTime: number;
  /** Run time in ms; 0 when unknown. */
  readonly duration: number;
  /** `null` for a missing, null or empty flavor code. */
  readonly flavorCode: string | null;
  /** `null` for a missing, null or empty pool id (the public pool). */
  readonly poolId: string | null;
  readonly gpuNum: number;
  readonly npuNum: number;
}

export type ParsedRecord =
  | { readonly ok: true; readonly version: JobVersion }
  /** `key` identifies the bad record so that the same record read twice counts once. */
  | { readonly ok: false; readonly reason: string; readonly key: string };

const NOT_AN_INTEGER = "not a non-negative integer";
const DIGITS = /^[0-9]+$/;

/**
 * report.md §4: a non-negative integer, or a string of ASCII digits ("8" is 8; " 8", "8.0",
 * "12e3", "-1", 1.5 and -1 are not). Values beyond 2^53 cannot be held exactly, so they are
 * bad records too rather than silently wrong numbers. `undefined` for anything else.
 */
function count(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value === "string" && DIGITS.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** Free text: strings are kept as they are, anything else is treated as absent. */
const text = (value: unknown): string | null =>
  typeof value === "string" && value !== "" ? value : null;

/** Why a field broke the rules, for `anomalies.reasons`. */
class BadField {
  constructor(
    readonly field: string,
    readonly why: string,
  ) {}
}

function required(record: Record<string, unknown>, field: string): number {
  const value = record[field];
  const n = count(value);
  if (n !== undefined) return n;
  throw new BadField(field, value === undefined && !(field in record) ? "missing" : NOT_AN_INTEGER);
}

/** Missing or null means 0. */
function optional(record: Record<string, unknown>, field: string): number {
  const value = record[field];
  if (value === undefined || value === null) return 0;
  const n = count(value);
  if (n !== undefined) return n;
  throw new BadField(field, NOT_AN_INTEGER);
}

/** The record's version id when it can be read as one (report.md §4), else `undefined`. */
export function readableVersionId(raw: unknown): number | undefined {
  if (typeof raw !== "object" || raw === null || !("version_id" in raw)) return undefined;
  const id = (raw as { version_id: unknown }).version_id;
  const n = typeof id === "string" ? (DIGITS.test(id) ? Number(id) : Number.NaN) : id;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** JSON with object keys sorted, so that the same record gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * A stable fingerprint of a whole record, for records without a readable version id: the
 * same record read on two pages gives the same fingerprint, so it is counted once and can
 * link neighbouring pages.
 */
export function recordFingerprint(raw: unknown): string {
  return createHash("sha1").update(canonicalJson(raw)).digest("base64url");
}

/** A stable key for a record that failed to parse: its version id when readable. */
function badRecordKey(raw: unknown): string {
  const id = readableVersionId(raw);
  return id === undefined ? `raw:${recordFingerprint(raw)}` : `id:${id}`;
}

/** A JobVersion that `readVersion` fills in place (the scan reuses one for every record). */
export type MutableJobVersion = { -readonly [K in keyof JobVersion]: JobVersion[K] };

export function emptyVersion(): MutableJobVersion {
  return {
    versionId: 0,
    versionName: null,
    status: 0,
    createTime: 0,
    startTime: 0,
    endTime: 0,
    duration: 0,
    flavorCode: null,
    poolId: null,
    gpuNum: 0,
    npuNum: 0,
  };
}

/**
 * Reads one element of the `versions` array of a listing page (report.md §4) into `into`;
 * returns `undefined` when it is valid, or the reason it is not (`into` is then left half
 * filled). Written by hand rather than with a schema library: it runs for every record of
 * every page (a million on a big project) and allocates nothing; the fields are checked in
 * the order of the record's definition, so the reason names the first field that is wrong.
 */
export function readVersion(raw: unknown, into: MutableJobVersion): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return "record: not an object";
  }
  const r = raw as Record<string, unknown>;
  try {
    into.versionId = required(r, "version_id");
    into.status = required(r, "status");
    into.createTime = required(r, "create_time");
    into.startTime = optional(r, "start_time");
    into.endTime = optional(r, "end_time");
    into.duration = optional(r, "duration");
    into.gpuNum = optional(r, "gpu_num");
    into.npuNum = optional(r, "npu_num");
  } catch (error) {
    if (!(error instanceof BadField)) throw error;
    return `${error.field}: ${error.why}`;
  }
  into.versionName = text(r.version_name);
  into.flavorCode = text(r.flavor_code);
  into.poolId = text(r.pool_id);
  return undefined;
}

/** Parses one element of the `versions` array of a listing page (report.md §4). */
export function parseVersionRecord(raw: unknown): ParsedRecord {
  const version = emptyVersion();
  const reason = readVersion(raw, version);
  return reason === undefined
    ? { ok: true, version }
    : { ok: false, reason, key: badRecordKey(raw) };
}
