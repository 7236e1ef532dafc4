import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DAY,
  MONTH,
  PERIODS,
  periodField,
  periodOf,
  periodOfReport,
} from "../../src/report/period.js";
import { EARLIEST_DATE, EARLIEST_MONTH } from "../../src/report/select-dates.js";
import { datesOfMonth, dayWindow } from "../../src/report/time.js";

/** The two kinds of report, each described once (report/period.ts). */

const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"];
const zone = fc.constantFrom(...ZONES);
/** 2000-01-01 to 2099-12-31, in epoch ms. */
const instant = fc.integer({ min: 946_684_800_000, max: 4_102_444_799_000 });
const month = fc
  .record({ y: fc.integer({ min: 2000, max: 2099 }), m: fc.integer({ min: 1, max: 12 }) })
  .map(({ y, m }) => `${y}-${String(m).padStart(2, "0")}`);

describe("a period", () => {
  it("keeps each kind's files, pointer and route where they have always been", () => {
    expect(DAY.key("2026-11-27", "report.json")).toBe("daily/2026-11-27/report.json");
    expect(MONTH.key("2026-10", "usage.csv")).toBe("monthly/2026-10/usage.csv");
    expect([DAY.folder, MONTH.folder]).toEqual(["daily", "monthly"]);
    expect([DAY.labelField, MONTH.labelField]).toEqual(["report_date", "report_month"]);
    expect([DAY.latestKey, MONTH.latestKey]).toEqual(["latest.json", "latest-month.json"]);
    expect([DAY.route("2026-11-27"), MONTH.route("2026-10")]).toEqual([
      "/reports/2026-11-27",
      "/reports/months/2026-10",
    ]);
    expect([DAY.earliest, MONTH.earliest]).toEqual([EARLIEST_DATE, EARLIEST_MONTH]);
  });

  it("takes only its own kind's labels", () => {
    expect([DAY.isLabel("2026-02-28"), DAY.isLabel("2026-02-29"), DAY.isLabel("2026-02")]).toEqual([
      true,
      false,
      false,
    ]);
    expect([
      MONTH.isLabel("2026-02"),
      MONTH.isLabel("2026-13"),
      MONTH.isLabel("2026-02-01"),
    ]).toEqual([true, false, false]);
  });

  it("steps back across a year's end to the report shown as previous", () => {
    expect(DAY.previous("2026-01-01")).toBe("2025-12-31");
    expect(DAY.previous("2028-03-01")).toBe("2028-02-29");
    expect(MONTH.previous("2026-01")).toBe("2025-12");
  });

  it("gives a month the window from its first day's start to its last day's end", () => {
    fc.assert(
      fc.property(month, zone, (m, tz) => {
        const days = datesOfMonth(m);
        const window = MONTH.window(m, tz);
        expect(window.start).toBe(dayWindow(days[0] as string, tz).start);
        expect(window.end).toBe(dayWindow(days[days.length - 1] as string, tz).end);
        expect(MONTH.window(MONTH.previous(m), tz).end).toBe(window.start);
      }),
    );
  });

  it("never lets a writer point past what any correct writer could, nor at a period not ended", () => {
    fc.assert(
      fc.property(instant, zone, (now, tz) => {
        for (const p of Object.values(PERIODS)) {
          const allowed = p.latestAllowed(now, tz);
          expect(p.isLabel(allowed)).toBe(true);
          // The newest allowed period has ended.
          expect(p.window(allowed, tz).end).toBeLessThanOrEqual(now);
          expect(allowed <= p.latestPossible(now, tz)).toBe(true);
        }
      }),
    );
  });

  it("is found from its kind, and from a report object, which names only a month", () => {
    expect(periodOf("day")).toBe(DAY);
    expect(periodOf("month")).toBe(MONTH);
    expect(periodOf(MONTH)).toBe(MONTH);
    expect(periodOfReport({ period: "day" })).toBe(DAY);
    for (const p of Object.values(PERIODS)) expect(periodOfReport(periodField(p))).toBe(p);
    expect(periodField(DAY)).toEqual({ period: "day" });
    expect(periodField(MONTH)).toEqual({ period: "month" });
  });
});
