import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../src/modelarts/retry-after.js";

const NOW = Date.UTC(2026, 11, 2, 0, 30, 0);

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("0", NOW)).toBe(0);
    expect(parseRetryAfter("120", NOW)).toBe(120);
    expect(parseRetryAfter(" 7 ", NOW)).toBe(7);
  });

  it("reads an IMF-fixdate as the seconds until then, 0 when it is past", () => {
    expect(parseRetryAfter("Wed, 02 Dec 2026 00:31:00 GMT", NOW)).toBe(60);
    expect(parseRetryAfter("Wed, 02 Dec 2026 00:30:00 GMT", NOW)).toBe(0);
    expect(parseRetryAfter("Tue, 01 Dec 2026 00:00:00 GMT", NOW)).toBe(0);
  });

  it.each([
    "1.5",
    "-1",
    "+3",
    "1e3",
    "",
    "soon",
    "Wednesday, 02-Dec-26 00:31:00 GMT", // RFC 850: obsolete, a sender must not send it
    "Wed Dec  2 00:31:00 2026", // asctime: likewise
    "Thu, 02 Dec 2026 00:31:00 GMT", // the 2nd is a Wednesday
    "Wed, 31 Feb 2026 00:31:00 GMT",
    "Wed, 02 Dec 2026 24:00:00 GMT",
    "Wed, 02 Dec 2026 00:31:00 UTC",
    "2026-12-02T00:31:00Z",
    "9999999999",
  ])("ignores %j, so normal backoff applies", (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it("ignores a missing header", () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });

  it("reads back every date that toUTCString writes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 * 3 }), (seconds) => {
        const header = new Date(NOW + seconds * 1000).toUTCString();
        expect(parseRetryAfter(header, NOW)).toBe(seconds);
      }),
    );
  });
});
