import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { peaks } from "../../src/report/peaks.js";

describe("peaks", () => {
  it("does not overlap an interval ending at t with one starting at t", () => {
    expect(peaks([0, 10, 4, 0, 10, 20, 4, 0])).toEqual([4, 0]);
  });
  it("adds intervals that overlap", () => {
    expect(peaks([0, 10, 4, 1, 5, 20, 2, 3, 9, 30, 1, 0])).toEqual([7, 4]);
  });

  // Within a day the sweep sorts packed keys; over more than 2^27 ms (37 h) it falls back to a
  // comparator. Both are checked against the definition: the most held at any start instant.
  it.each([
    ["a day", 86_400_000],
    ["a month", 31 * 86_400_000],
  ])("equals the largest sum held at one instant, over %s", (_, span) => {
    const arbInterval = fc
      .record({
        start: fc.integer({ min: 0, max: span }),
        length: fc.integer({ min: 1, max: span }),
        gpus: fc.integer({ min: 0, max: 8 }),
        npus: fc.integer({ min: 0, max: 8 }),
      })
      .map(({ start, length, gpus, npus }) => [start, start + length, gpus, npus] as const);
    fc.assert(
      fc.property(fc.array(arbInterval, { maxLength: 30 }), (intervals) => {
        // A peak starts at some interval's start: the largest sum over those instants.
        const heldAt = (t: number, k: 2 | 3) =>
          intervals.reduce((s, iv) => (iv[0] <= t && t < iv[1] ? s + iv[k] : s), 0);
        const expected = [2, 3].map((k) =>
          Math.max(0, ...intervals.map((iv) => heldAt(iv[0], k as 2 | 3))),
        );
        expect(peaks(intervals.flat())).toEqual(expected);
      }),
    );
  });
});
