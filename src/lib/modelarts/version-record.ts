import { createHash } from "node:crypto";
import { z } from "zod";

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
 * bad records too rather than silently wrong numbers.
 */
const count = z
  .union([z.number(), z.string()], { error: NOT_AN_INTEGER })
  .transform((value, ctx) => {
    const n = typeof value === "string" ? (DIGITS.test(value) ? Number(value) : Number.NaN) : value;
    if (!Number.isSafeInteger(n) || n < 0) {
      ctx.addIssue({ code: "custom", message: NOT_AN_INTEGER });
      return z.NEVER;
    }
    return n;
  });

const optionalCount = count.nullish().transform((n) => n ?? 0);

/** Free text: strings are kept as they are, anything else is treated as absent. */
const text = z
  .unknown()
  .optional()
  .transform((v) => (typeof v === "string" && v !== "" ? v : null));

const versionSchema = z.object({
  version_id: count,
  version_name: text,
  status: count,
  create_time: count,
  start_time: optionalCount,
  end_time: optionalCount,
  duration: optionalCount,
  flavor_code: text,
  pool_id: text,
  gpu_num: optionalCount,
  npu_num: optionalCount,
});

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

/** Parses one element of the `versions` array of a listing page (report.md §4). */
export function parseVersionRecord(raw: unknown): ParsedRecord {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: "record: not an object", key: badRecordKey(raw) };
  }
  const result = versionSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path[0];
    const missing = issue !== undefined && field !== undefined && !(String(field) in raw);
    const reason = `${String(field ?? "record")}: ${missing ? "missing" : (issue?.message ?? "invalid")}`;
    return { ok: false, reason, key: badRecordKey(raw) };
  }
  const r = result.data;
  return {
    ok: true,
    version: {
      versionId: r.version_id,
      versionName: r.version_name,
      status: r.status,
      createTime: r.create_time,
      startTime: r.start_time,
      endTime: r.end_time,
      duration: r.duration,
      flavorCode: r.flavor_code,
      poolId: r.pool_id,
      gpuNum: r.gpu_num,
      npuNum: r.npu_num,
    },
  };
}
