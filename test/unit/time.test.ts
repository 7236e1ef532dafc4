import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addDays,
  countDates,
  datesInRange,
  dayWindow,
  formatWithOffset,
  isValidDate,
  isValidTimeZone,
  localDate,
  offsetAt,
  startOfDay,
  yesterday,
} from "../../src/report/time.js";

const HOUR = 3_600_000;
const utc = (iso: string) => Date.parse(iso);
const hours = (w: { start: number; end: number }) => (w.end - w.start) / HOUR;

describe("isValidDate", () => {
  it("accepts dates that exist, leap days included", () => {
    for (const date of [
      "2026-01-01",
      "2026-12-31",
      "2024-02-29",
      "2000-02-29",
      "0000-01-01",
      "9999-12-31",
    ]) {
      expect(isValidDate(date), date).toBe(true);
    }
  });

  it("rejects days that do not exist and anything not exactly YYYY-MM-DD", () => {
    for (const date of [
      "2026-02-30",
      "2025-02-29",
      "1900-02-29",
      "2026-04-31",
      "2026-13-01",
      "2026-00-10",
      "2026-01-00",
      "2026-1-1",
      " 2026-01-01",
      "2026-01-01 ",
      "2026-01-01T00:00",
      "20260101",
      "+02026-01-01",
      "２０２６-01-01",
      "",
    ]) {
      expect(isValidDate(date), date).toBe(false);
    }
  });
});

describe("isValidTimeZone", () => {
  it("accepts IANA names and links the runtime knows", () => {
    for (const tz of [
      "UTC",
      "Europe/Berlin",
      "Asia/Kathmandu",
      "Asia/Calcutta",
      "Etc/GMT+5",
      "EST5EDT",
    ]) {
      expect(isValidTimeZone(tz), tz).toBe(true);
    }
  });

  it("rejects unknown names, offsets and padded names", () => {
    for (const tz of [
      "Mars/Base",
      "",
      "+01:00",
      "-05:00",
      "UTC+1",
      "Z",
      " UTC",
      "Europe/Berlin ",
    ]) {
      expect(isValidTimeZone(tz), tz).toBe(false);
    }
  });
});

describe("date arithmetic", () => {
  it("adds days across month, year and leap-day boundaries", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2024-03-01", -1)).toBe("2024-02-29");
    expect(addDays("2025-03-01", -1)).toBe("2025-02-28");
    expect(addDays("2026-01-31", 30)).toBe("2026-03-02");
    expect(addDays("2026-05-05", 0)).toBe("2026-05-05");
  });

  it("lists the dates of a range, both ends included, across month and year ends", () => {
    expect(datesInRange("2026-04-29", "2026-05-02")).toEqual([
      "2026-04-29",
      "2026-04-30",
      "2026-05-01",
      "2026-05-02",
    ]);
    expect(datesInRange("2027-12-31", "2028-01-01")).toEqual(["2027-12-31", "2028-01-01"]);
    expect(datesInRange("2028-02-28", "2028-03-01")).toEqual([
      "2028-02-28",
      "2028-02-29",
      "2028-03-01",
    ]);
    expect(datesInRange("2026-07-04", "2026-07-04")).toEqual(["2026-07-04"]);
  });

  it("counts the dates of a range like datesInRange does", () => {
    expect(countDates("2026-01-01", "2026-12-31")).toBe(365);
    expect(countDates("2028-01-01", "2028-12-31")).toBe(366);
    expect(countDates("2026-07-04", "2026-07-04")).toBe(1);
    expect(countDates("2026-07-05", "2026-07-04")).toBe(0);
    expect(datesInRange("2026-07-05", "2026-07-04")).toEqual([]);
  });

  it("throws RangeError on a date that is not one", () => {
    expect(() => addDays("2026-02-30", 1)).toThrow(RangeError);
    expect(() => datesInRange("2026-01-01", "2026-1-2")).toThrow(RangeError);
    expect(() => countDates("x", "2026-01-01")).toThrow(RangeError);
    expect(() => addDays("2026-01-01", 0.5)).toThrow(RangeError);
  });
});

describe("dayWindow", () => {
  it("makes a UTC day exactly 24 hours from midnight to midnight", () => {
    expect(dayWindow("2026-11-27", "UTC")).toEqual({
      start: utc("2026-11-27T00:00:00Z"),
      end: utc("2026-11-28T00:00:00Z"),
    });
  });

  it("makes Berlin's spring-forward day 23 hours and its fall-back day 25 hours", () => {
    // CET (+01:00) until 2026-03-29 01:00Z, CEST (+02:00) until 2026-10-25 01:00Z.
    const spring = dayWindow("2026-03-29", "Europe/Berlin");
    expect(spring).toEqual({
      start: utc("2026-03-28T23:00:00Z"),
      end: utc("2026-03-29T22:00:00Z"),
    });
    expect(hours(spring)).toBe(23);
    const autumn = dayWindow("2026-10-25", "Europe/Berlin");
    expect(autumn).toEqual({
      start: utc("2026-10-24T22:00:00Z"),
      end: utc("2026-10-25T23:00:00Z"),
    });
    expect(hours(autumn)).toBe(25);
    expect(formatWithOffset(spring.start, "Europe/Berlin")).toBe("2026-03-29T00:00:00+01:00");
    expect(formatWithOffset(spring.end, "Europe/Berlin")).toBe("2026-03-30T00:00:00+02:00");
    expect(formatWithOffset(autumn.start, "Europe/Berlin")).toBe("2026-10-25T00:00:00+02:00");
    expect(formatWithOffset(autumn.end, "Europe/Berlin")).toBe("2026-10-26T00:00:00+01:00");
  });

  it("makes New York's daylight-saving days 23 and 25 hours", () => {
    // EST (-05:00) → EDT (-04:00) on 2026-03-08 at 02:00; back on 2026-11-01 at 02:00.
    expect(dayWindow("2026-03-08", "America/New_York")).toEqual({
      start: utc("2026-03-08T05:00:00Z"),
      end: utc("2026-03-09T04:00:00Z"),
    });
    expect(dayWindow("2026-11-01", "America/New_York")).toEqual({
      start: utc("2026-11-01T04:00:00Z"),
      end: utc("2026-11-02T05:00:00Z"),
    });
    expect(hours(dayWindow("2026-07-01", "America/New_York"))).toBe(24);
  });

  it("starts a day whose midnight is skipped at the instant the clock jumps past it", () => {
    // Each of these zones moves its clock from 00:00 to 01:00: the date begins at 01:00 new time.
    expect(dayWindow("2022-09-11", "America/Santiago")).toEqual({
      start: utc("2022-09-11T04:00:00Z"), // 00:00 -04:00 → 01:00 -03:00
      end: utc("2022-09-12T03:00:00Z"),
    });
    expect(formatWithOffset(startOfDay("2022-09-11", "America/Santiago"), "America/Santiago")).toBe(
      "2022-09-11T01:00:00-03:00",
    );
    expect(startOfDay("2026-03-08", "America/Havana")).toBe(utc("2026-03-08T05:00:00Z"));
    expect(startOfDay("2018-11-04", "America/Sao_Paulo")).toBe(utc("2018-11-04T03:00:00Z"));
    expect(startOfDay("2026-03-29", "Asia/Beirut")).toBe(utc("2026-03-28T22:00:00Z"));
    expect(startOfDay("2026-04-24", "Africa/Cairo")).toBe(utc("2026-04-23T22:00:00Z"));
    expect(hours(dayWindow("2026-03-08", "America/Havana"))).toBe(23);
    // The day before ends where the skipped-midnight day starts.
    expect(dayWindow("2022-09-10", "America/Santiago").end).toBe(utc("2022-09-11T04:00:00Z"));
  });

  it("starts a day whose midnight happens twice at the first of the two", () => {
    // Havana: 01:00 -04:00 → 00:00 -05:00, so 00:00 comes at 04:00Z and again at 05:00Z.
    const havana = dayWindow("2026-11-01", "America/Havana");
    expect(havana).toEqual({
      start: utc("2026-11-01T04:00:00Z"),
      end: utc("2026-11-02T05:00:00Z"),
    });
    expect(formatWithOffset(havana.start, "America/Havana")).toBe("2026-11-01T00:00:00-04:00");
    expect(hours(havana)).toBe(25);
  });

  it("starts a day at its first midnight when the clock falls back into the day before", () => {
    // Goose Bay, 2010-11-07 00:01 ADT (-03:00) → 2010-11-06 23:01 AST (-04:00): the 7th begins
    // at 03:00Z, the clock reads the 6th again from 03:01Z, and the 7th comes back at 04:00Z.
    const seventh = dayWindow("2010-11-07", "America/Goose_Bay");
    expect(seventh).toEqual({
      start: utc("2010-11-07T03:00:00Z"),
      end: utc("2010-11-08T04:00:00Z"),
    });
    expect(dayWindow("2010-11-06", "America/Goose_Bay")).toEqual({
      start: utc("2010-11-06T03:00:00Z"),
      end: utc("2010-11-07T03:00:00Z"),
    });
    // So the window of the 7th holds an hour whose wall clock says the 6th (report.md §1).
    expect(localDate(utc("2010-11-07T03:30:00Z"), "America/Goose_Bay")).toBe("2010-11-06");
  });

  it("gives a date the zone skipped an empty window between its neighbours", () => {
    // Samoa went from -10:00 to +14:00 at the end of 2011-12-29: 2011-12-30 never happened there.
    const skipped = utc("2011-12-30T10:00:00Z");
    expect(isValidDate("2011-12-30")).toBe(true);
    expect(dayWindow("2011-12-29", "Pacific/Apia")).toEqual({
      start: utc("2011-12-29T10:00:00Z"),
      end: skipped,
    });
    expect(dayWindow("2011-12-30", "Pacific/Apia")).toEqual({ start: skipped, end: skipped });
    expect(dayWindow("2011-12-31", "Pacific/Apia")).toEqual({
      start: skipped,
      end: utc("2011-12-31T10:00:00Z"),
    });
    expect(localDate(skipped, "Pacific/Apia")).toBe("2011-12-31");
  });

  it("follows a change of standard offset by three hours: a 21-hour and a 27-hour day", () => {
    // Antarctica/Casey: +08:00 → +11:00 on 2022-10-02 at 00:01, back on 2023-03-09 at 03:00.
    expect(dayWindow("2022-10-02", "Antarctica/Casey")).toEqual({
      start: utc("2022-10-01T16:00:00Z"),
      end: utc("2022-10-02T13:00:00Z"),
    });
    expect(hours(dayWindow("2023-03-09", "Antarctica/Casey"))).toBe(27);
  });

  it("follows half-hour daylight saving (Lord Howe Island)", () => {
    // +11:00 → +10:30 on 2026-04-05 at 02:00; +10:30 → +11:00 on 2026-10-04 at 02:00.
    expect(hours(dayWindow("2026-04-05", "Australia/Lord_Howe"))).toBe(24.5);
    expect(hours(dayWindow("2026-10-04", "Australia/Lord_Howe"))).toBe(23.5);
  });

  it("starts the day at midnight in half- and quarter-hour zones", () => {
    expect(startOfDay("2026-01-01", "Asia/Kolkata")).toBe(utc("2025-12-31T18:30:00Z"));
    expect(startOfDay("2026-01-01", "Asia/Kathmandu")).toBe(utc("2025-12-31T18:15:00Z"));
  });
});

describe("formatWithOffset and offsetAt", () => {
  it("writes UTC as +00:00, never Z, and drops milliseconds", () => {
    expect(formatWithOffset(utc("2026-11-27T08:00:00.999Z"), "UTC")).toBe(
      "2026-11-27T08:00:00+00:00",
    );
    expect(formatWithOffset(-1, "UTC")).toBe("1969-12-31T23:59:59+00:00");
  });

  it("writes half- and quarter-hour offsets", () => {
    const instant = utc("2026-01-01T00:00:00Z");
    expect(offsetAt(instant, "Asia/Kolkata")).toBe(5.5 * HOUR);
    expect(offsetAt(instant, "Asia/Kathmandu")).toBe(5.75 * HOUR);
    expect(formatWithOffset(instant, "Asia/Kolkata")).toBe("2026-01-01T05:30:00+05:30");
    expect(formatWithOffset(instant, "Asia/Kathmandu")).toBe("2026-01-01T05:45:00+05:45");
    expect(formatWithOffset(instant, "America/St_Johns")).toBe("2025-12-31T20:30:00-03:30");
  });

  it("reads negative offsets as west of UTC", () => {
    expect(offsetAt(utc("2026-07-01T12:00:00Z"), "America/New_York")).toBe(-4 * HOUR);
    expect(offsetAt(utc("2026-01-01T12:00:00Z"), "UTC")).toBe(0);
  });

  it("rounds an offset with seconds to minutes and keeps the instant", () => {
    // Liberia kept local mean time, -00:44:30, until 1972: written -00:44, wall clock 30 s on.
    const instant = utc("1960-01-01T00:44:30Z");
    expect(offsetAt(instant, "Africa/Monrovia")).toBe(-(44 * 60 + 30) * 1000);
    const text = formatWithOffset(instant, "Africa/Monrovia");
    expect(text).toBe("1960-01-01T00:00:30-00:44");
    expect(Date.parse(text)).toBe(instant);
  });
});

describe("localDate and yesterday", () => {
  it("reads the wall-clock date of an instant", () => {
    const instant = utc("2026-11-26T23:10:00Z");
    expect(localDate(instant, "UTC")).toBe("2026-11-26");
    expect(localDate(instant, "Europe/Berlin")).toBe("2026-11-27");
    expect(localDate(instant, "America/New_York")).toBe("2026-11-26");
  });

  it("at 00:10 in Berlin reports the Berlin day before, which is two UTC days back", () => {
    const now = utc("2026-11-26T23:10:00Z"); // 2026-11-27 00:10 in Berlin
    expect(yesterday(now, "Europe/Berlin")).toBe("2026-11-26");
    expect(yesterday(now, "UTC")).toBe("2026-11-25");
  });

  it("just after midnight on New Year's Day reports the last day of the year before", () => {
    expect(yesterday(utc("2027-01-01T00:00:00Z"), "UTC")).toBe("2026-12-31");
  });

  it("after a skipped date reports the last date that had hours", () => {
    // 2011-12-31 00:10 in Samoa; 2011-12-30 did not exist there.
    expect(yesterday(utc("2011-12-30T10:10:00Z"), "Pacific/Apia")).toBe("2011-12-29");
    // 2012-01-01 00:10 in Samoa.
    expect(yesterday(utc("2011-12-31T10:10:00Z"), "Pacific/Apia")).toBe("2011-12-31");
  });
});

describe("properties", () => {
  const zones = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "America/Sao_Paulo",
    "America/Goose_Bay",
    "America/St_Johns",
    "Asia/Beirut",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Africa/Cairo",
    "Antarctica/Troll",
    "Europe/Moscow",
  ];
  // The only dates of these zones in 1990–2060 outside 22–26 hours: the days they skipped.
  const skipped = new Set(["Pacific/Apia 2011-12-30", "Pacific/Kiritimati 1994-12-31"]);
  const day = fc.integer({ min: 0, max: countDates("1990-01-01", "2060-12-31") - 1 });
  const zone = fc.constantFrom(...zones);

  it("makes consecutive windows meet, last 22 to 26 hours and start on their own date", () => {
    const cases: [string, string][] = [...skipped].map((s) => s.split(" ") as [string, string]);
    fc.assert(
      fc.property(zone, day, (tz, n) => {
        const date = addDays("1990-01-01", n);
        const window = dayWindow(date, tz);
        expect(window.end).toBe(dayWindow(addDays(date, 1), tz).start);
        if (skipped.has(`${tz} ${date}`)) {
          expect(window.end).toBe(window.start);
          expect(localDate(window.start, tz)).toBe(addDays(date, 1));
        } else {
          expect(hours(window)).toBeGreaterThanOrEqual(22);
          expect(hours(window)).toBeLessThanOrEqual(26);
          expect(localDate(window.start, tz)).toBe(date);
          expect(localDate(window.start - 1, tz) < date).toBe(true);
        }
      }),
      {
        numRuns: 300,
        examples: cases.map(([tz, date]) => [tz, countDates("1990-01-01", date) - 1]),
      },
    );
  });

  it("writes instants that parse back to themselves, to the second", () => {
    const instant = fc.integer({
      min: utc("1990-01-01T00:00:00Z"),
      max: utc("2061-01-01T00:00:00Z"),
    });
    fc.assert(
      fc.property(zone, instant, (tz, t) => {
        const text = formatWithOffset(t, tz);
        expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
        expect(Date.parse(text)).toBe(Math.floor(t / 1000) * 1000);
        expect(text.slice(0, 10)).toBe(localDate(t, tz));
      }),
      { numRuns: 500 },
    );
  });
});
