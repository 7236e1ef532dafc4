import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { parseVersionRecord } from "../../src/modelarts/version-record.js";

/**
 * The hand-written record parser against a schema-library reference of report.md §4 (the
 * parser of the first release, kept here): the same verdict, the same version and the same
 * reason for any record, valid or not.
 */

const NOT_AN_INTEGER = "not a non-negative integer";
const DIGITS = /^[0-9]+$/;
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
const text = z
  .unknown()
  .optional()
  .transform((v) => (typeof v === "string" && v !== "" ? v : null));
const reference = z.object({
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

function referenceParse(raw: unknown) {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: "record: not an object" };
  }
  const result = reference.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path[0];
    const missing = issue !== undefined && field !== undefined && !(String(field) in raw);
    return {
      ok: false,
      reason: `${String(field ?? "record")}: ${missing ? "missing" : (issue?.message ?? "invalid")}`,
    };
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

const value = fc.oneof(
  fc.nat(),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(1.5, -0, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e21),
  fc.constantFrom("8", " 8", "8.0", "12e3", "-1", "", "007", "9007199254740993"),
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 6 }),
  fc.constant([1]),
  fc.constant({}),
);
const fields = [
  "version_id",
  "version_name",
  "status",
  "create_time",
  "start_time",
  "end_time",
  "duration",
  "flavor_code",
  "pool_id",
  "gpu_num",
  "npu_num",
  "extra",
];
const record = fc.oneof(
  { arbitrary: fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 12 }), weight: 8 },
  {
    arbitrary: fc.record(
      {
        version_id: fc.nat(),
        status: fc.integer({ min: 0, max: 25 }),
        create_time: fc.nat(),
        start_time: value,
        gpu_num: value,
        flavor_code: value,
        pool_id: value,
      },
      { requiredKeys: ["version_id", "status", "create_time"] },
    ),
    weight: 4,
  },
  fc.anything(),
);

describe("parseVersionRecord", () => {
  it("gives the reference's verdict, version and reason for any record", () => {
    fc.assert(
      fc.property(record, (raw) => {
        const got = parseVersionRecord(raw);
        const want = referenceParse(raw);
        if (got.ok) expect({ ok: true, version: got.version }).toEqual(want);
        else expect({ ok: false, reason: got.reason }).toEqual(want);
      }),
      { numRuns: 5000, seed: 20261202 },
    );
  });

  it.each([
    [{ status: 1, create_time: 1 }, "version_id: missing"],
    [{ version_id: null, status: 1, create_time: 1 }, "version_id: not a non-negative integer"],
    [{ version_id: 1, status: "x", create_time: 1 }, "status: not a non-negative integer"],
    [
      { version_id: 1, status: 1, create_time: 1, start_time: "8.0" },
      "start_time: not a non-negative integer",
    ],
    [
      { version_id: 1, status: 1, create_time: 1, gpu_num: -1 },
      "gpu_num: not a non-negative integer",
    ],
    ["x", "record: not an object"],
  ])("names the first field that is wrong in %j", (raw, reason) => {
    const parsed = parseVersionRecord(raw);
    expect(parsed.ok ? undefined : parsed.reason).toBe(reason);
  });
});
