import { describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/cli/main.js";
import { parseReportEvent } from "../../src/handlers/report-event.js";
import {
  DateSelectionError,
  EARLIEST_DATE,
  MAX_RANGE_DAYS,
  MAX_REGENERATION_DAYS,
  monthDue,
  selectDateList,
  selectDates,
  selectMonth,
  selectRun,
  selectScheduled,
} from "../../src/report/select-dates.js";

/** 2026-12-02 00:30 UTC: yesterday is 2026-12-01 in UTC, and in Europe/Berlin too. */
const NOW = Date.UTC(2026, 11, 2, 0, 30);
const opts = { now: NOW, timeZone: "UTC", maxDays: 31, defaultYesterday: false };

function problem(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DateSelectionError);
    expect(exitCodeOf(error)).toBe(2); // the user's to fix, not a failed run
    return [(error as DateSelectionError).problem, (error as Error).message];
  }
  throw new Error("expected a DateSelectionError");
}

describe("selectDates", () => {
  it("gives one date, or a range with both ends counted", () => {
    expect(selectDates({ date: "2026-11-27" }, opts)).toEqual(["2026-11-27"]);
    expect(selectDates({ from: "2026-11-29", to: "2026-12-01" }, opts)).toEqual([
      "2026-11-29",
      "2026-11-30",
      "2026-12-01",
    ]);
  });

  it("takes yesterday in the time zone when asked to and nothing is given", () => {
    expect(selectDates({}, { ...opts, defaultYesterday: true })).toEqual(["2026-12-01"]);
    // 23:30 UTC on 2026-12-01 is already 2026-12-02 in Tokyo: yesterday there is 2026-12-01.
    const late = Date.UTC(2026, 11, 1, 23, 30);
    expect(
      selectDates({}, { ...opts, now: late, timeZone: "Asia/Tokyo", defaultYesterday: true }),
    ).toEqual(["2026-12-01"]);
    expect(selectDates({}, { ...opts, now: late, defaultYesterday: true })).toEqual(["2026-11-30"]);
    expect(problem(() => selectDates({}, opts))[0]).toBe("invalid_range");
  });

  it("refuses a date that has not ended in the report time zone", () => {
    expect(problem(() => selectDates({ date: "2026-12-02" }, opts))).toEqual([
      "invalid_date",
      "2026-12-02 has not ended yet in UTC: the latest date that can be reported is 2026-12-01",
    ]);
    expect(problem(() => selectDates({ date: "2099-01-01" }, opts))[0]).toBe("invalid_date");
    // A range into the future says so, before it says the range is too long.
    expect(problem(() => selectDates({ from: "2026-01-01", to: "2099-01-01" }, opts))[0]).toBe(
      "invalid_date",
    );
    // The limit is the zone's own yesterday: in Pacific/Kiritimati (UTC+14) it is already the
    // afternoon of the 2nd; in Honolulu (UTC-10), at 09:00 UTC on the 1st, still November 30.
    expect(
      selectDates({ date: "2026-12-01" }, { ...opts, timeZone: "Pacific/Kiritimati" }),
    ).toEqual(["2026-12-01"]);
    expect(
      problem(() =>
        selectDates(
          { date: "2026-12-01" },
          { ...opts, now: Date.UTC(2026, 11, 1, 9), timeZone: "Pacific/Honolulu" },
        ),
      )[0],
    ).toBe("invalid_date");
  });

  it("names the fields as the caller calls them", () => {
    const names = { date: "--date", from: "--from", to: "--to" };
    expect(problem(() => selectDates({ date: "2026-02-30" }, { ...opts, names }))[1]).toBe(
      '--date "2026-02-30" is not a date (YYYY-MM-DD that exists)',
    );
    expect(problem(() => selectDates({ from: "2026-11-02" }, { ...opts, names }))[1]).toBe(
      "--from and --to go together",
    );
  });

  it.each([
    [{ date: "2026-11-20", from: "2026-11-18", to: "2026-11-20" }, "not both"],
    [{ from: "2026-11-20", to: "2026-11-18" }, "is after"],
    [{ from: "2026-10-01", to: "2026-11-01" }, "covers 32 days; at most 31"],
    [{ to: "2026-11-01" }, "go together"],
  ])("refuses %j as a range that cannot be (%s)", (selection, message) => {
    const [kind, text] = problem(() => selectDates(selection, opts));
    expect(kind).toBe("invalid_range");
    expect(text).toContain(message);
  });

  it("refuses dates before 2000-01-01, in any field, as invalid_date", () => {
    for (const selection of [
      { date: "0000-01-01" },
      { date: "1999-12-31" },
      { from: "1999-12-31", to: "2000-01-01" },
      { from: "0001-01-01", to: "0001-01-02" },
    ]) {
      const [kind, text] = problem(() => selectDates(selection, opts));
      expect(kind, JSON.stringify(selection)).toBe("invalid_date");
      expect(text).toContain("2000-01-01");
    }
    expect(selectDates({ date: "2000-01-01" }, opts)).toEqual(["2000-01-01"]);
    expect(problem(() => selectRun({ month: "1999-12" }, opts))[0]).toBe("invalid_date");
    expect(problem(() => selectRun({ month: "0000-01" }, opts))[1]).toContain("2000-01");
    expect(selectRun({ month: "2000-01" }, opts)).toEqual({ dates: [], month: "2000-01" });
    // The report function's event goes through the same rule.
    expect(() => parseReportEvent({ dates: ["0000-01-01"] }, NOW, "UTC")).toThrow(/2000-01-01/);
    expect(() => parseReportEvent({ month: "1999-12" }, NOW, "UTC")).toThrow(/2000-01/);
  });

  it("clips what it quotes of a long bad value", () => {
    const [, message] = problem(() => selectDates({ date: "x".repeat(10_000) }, opts));
    expect(message.length).toBeLessThan(100);
  });
});

describe("parseReportEvent", () => {
  it("reports the day before the scheduled time, whenever the run starts", () => {
    const event = { source: "schedule", scheduled_time: "2026-11-28T00:30:00Z" };
    expect(parseReportEvent(event, NOW, "UTC")).toEqual({
      dates: ["2026-11-27"],
      month: undefined,
      // The month ended by then: reported too if it has not been yet.
      dueMonth: "2026-10",
      requestId: undefined,
      // Its run sends the daily digest.
      scheduled: true,
    });
    // Berlin's 00:30 is 23:30 UTC the day before.
    const berlin = { source: "schedule", scheduled_time: "2026-11-27T23:30:00Z" };
    expect(parseReportEvent(berlin, NOW, "Europe/Berlin").dates).toEqual(["2026-11-27"]);
  });

  it("reports yesterday for an empty event, as a run from the console", () => {
    expect(parseReportEvent({}, NOW, "UTC").dates).toEqual(["2026-12-01"]);
    expect(parseReportEvent(null, NOW, "UTC").dates).toEqual(["2026-12-01"]);
  });

  it("takes the consecutive dates POST /reports sends, with its request id", () => {
    expect(
      parseReportEvent({ dates: ["2026-11-26", "2026-11-27"], request_id: "r-1" }, NOW, "UTC"),
    ).toMatchObject({ dates: ["2026-11-26", "2026-11-27"], dueMonth: undefined, requestId: "r-1" });
  });

  it("takes a month that has ended, alone", () => {
    expect(parseReportEvent({ month: "2026-11", request_id: "r-2" }, NOW, "UTC")).toEqual({
      dates: [],
      month: "2026-11",
      dueMonth: undefined,
      requestId: "r-2",
      scheduled: false,
    });
    expect(() => parseReportEvent({ month: "2026-12" }, NOW, "UTC")).toThrow(/has not ended yet/);
    expect(() => parseReportEvent({ month: "2026-11", dates: ["2026-11-27"] }, NOW, "UTC")).toThrow(
      /both dates and a month/,
    );
  });

  it.each([
    [{ dates: ["2026-11-26", "2026-11-28"] }],
    [{ dates: ["2026-11-27", "2026-11-26"] }],
    [{ dates: [] }],
    [{ dates: ["2026-12-02"] }],
    [{ date: "2026-11-27" }],
    [{ "detail-type": "Scheduled Event", source: "aws.scheduler", detail: "{}" }],
    [{ scheduled_time: "yesterday" }],
    ["2026-11-27"],
  ])("refuses the event %j rather than guess what it meant", (event) => {
    expect(() => parseReportEvent(event, NOW, "UTC")).toThrow(DateSelectionError);
  });
});

describe("selectRun and selectMonth", () => {
  it("gives a month that has ended in the report time zone, and refuses one still going", () => {
    expect(selectRun({ month: "2026-11" }, opts)).toEqual({ dates: [], month: "2026-11" });
    expect(problem(() => selectRun({ month: "2026-12" }, opts))).toEqual([
      "invalid_date",
      "2026-12 has not ended yet in UTC: the latest month that can be reported is 2026-11",
    ]);
    // 2026-12-01 00:30 in Berlin is still November 30 in New York: November has not ended there.
    const early = Date.UTC(2026, 11, 1, 0, 30);
    expect(selectMonth("2026-11", { now: early, timeZone: "Europe/Berlin" })).toBe("2026-11");
    expect(() => selectMonth("2026-11", { now: early, timeZone: "America/New_York" })).toThrow(
      /2026-11 has not ended yet in America\/New_York/,
    );
  });

  it("refuses a malformed month, and a month with dates", () => {
    for (const bad of ["2026-13", "2026-1", "202611", "2026-11-01"]) {
      expect(problem(() => selectRun({ month: bad }, opts))[0]).toBe("invalid_date");
    }
    expect(problem(() => selectRun({ month: "2026-11", date: "2026-11-03" }, opts))[0]).toBe(
      "invalid_range",
    );
  });

  it("gives dates as selectDates does without a month", () => {
    expect(selectRun({ date: "2026-11-27" }, opts)).toEqual({
      dates: ["2026-11-27"],
      month: undefined,
    });
  });
});

describe("the limits select-dates owns", () => {
  it("keeps a run to 92 dates, a regeneration to 31, and nothing before 2000-01-01", () => {
    expect([MAX_RANGE_DAYS, MAX_REGENERATION_DAYS, EARLIEST_DATE]).toEqual([92, 31, "2000-01-01"]);
    const range = { now: NOW, timeZone: "UTC", maxDays: MAX_RANGE_DAYS };
    expect(selectDateList(["2026-08-31", "2026-09-01"], range)).toEqual([
      "2026-08-31",
      "2026-09-01",
    ]);
    expect(problem(() => selectDateList([], range))).toEqual([
      "invalid_range",
      "no dates are given",
    ]);
    expect(
      problem(() =>
        selectDates({ from: "2026-08-31", to: "2026-12-01" }, { ...opts, maxDays: 92 }),
      ),
    ).toEqual(["invalid_range", "from/to covers 93 days; at most 92"]);
  });

  it("reports yesterday of the scheduled time, never of a time still to come", () => {
    const scheduled = Date.UTC(2026, 11, 1, 0, 30);
    expect(selectScheduled(scheduled, { now: NOW, timeZone: "UTC" })).toEqual({
      dates: ["2026-11-30"],
      dueMonth: "2026-11",
    });
    expect(selectScheduled(undefined, { now: NOW, timeZone: "UTC" })).toEqual({
      dates: ["2026-12-01"],
      dueMonth: "2026-11",
    });
    expect(selectScheduled(NOW + 86_400_000, { now: NOW, timeZone: "UTC" }).dates).toEqual([
      "2026-12-01",
    ]);
  });

  it("makes a month due until latest-month.json names it or a later one", () => {
    expect(monthDue("2026-11", undefined)).toBe("2026-11");
    expect(monthDue("2026-11", "2026-10")).toBe("2026-11");
    expect(monthDue("2026-11", "2026-11")).toBeUndefined();
    expect(monthDue("2026-11", "2026-12")).toBeUndefined();
  });
});
