import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReportCli } from "../../src/cli/report.js";
import { cliIo } from "../helpers/sink.js";

/**
 * Budgets in the run (report.md §11), on the demo organisation: a month budget's month to date
 * sums the month's stored daily reports and the run's day; a day budget filtered to one
 * source; the month report's against its totals.
 */

const RUN_AT = Date.UTC(2026, 11, 1, 0, 30);
const BUDGETS = {
  budgets: [
    { name: "nlp-day", period: "day", metric: "gpu_hours", limit: 100, source: "research.nlp" },
    { name: "org-month", period: "month", metric: "gpu_hours", limit: 50_000 },
    { name: "eu-npu-month", period: "month", metric: "npu_hours", limit: 1, source: "eu-prod" },
  ],
};
let cwd: string;
const read = async (path: string) => JSON.parse(await readFile(join(cwd, "reports", path), "utf8"));

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "budgets-"));
  const env = { REPORT_BUDGETS: JSON.stringify(BUDGETS) };
  // The 1st to the 25th first (the 26th left out: a missing day), then the 27th alone.
  expect(
    await runReportCli(["--from", "2026-11-01", "--to", "2026-11-25"], cliIo(env, RUN_AT, cwd)),
  ).toBe(0);
  expect(await runReportCli(["--date", "2026-11-27"], cliIo(env, RUN_AT, cwd))).toBe(0);
  expect(await runReportCli(["--month", "2026-11"], cliIo(env, RUN_AT, cwd))).toBe(0);
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

describe("budgets in the reports", () => {
  it("sums the month to date over the stored days and forecasts over the days reported", async () => {
    const day = await read("daily/2026-11-27/report.json");
    const month = day.budgets.find((b: { name: string }) => b.name === "org-month");
    // 25 stored days and the 27th: 26 reports of the month so far.
    let sum = day.totals.gpu_hours;
    for (let d = 1; d <= 25; d++) {
      sum += (await read(`daily/2026-11-${String(d).padStart(2, "0")}/report.json`)).totals
        .gpu_hours;
    }
    expect(month.actual).toBeCloseTo(round6(sum), 4);
    expect(month.forecast).toBeCloseTo((month.actual * 30) / 26, 3);
    expect(month.state).toBe(
      month.actual > 50_000 ? "over" : month.forecast > 50_000 ? "forecast_over" : "ok",
    );
    // A source's own budget, in configuration order; a tiny limit is over.
    expect(day.budgets.map((b: { name: string }) => b.name)).toEqual([
      "nlp-day",
      "org-month",
      "eu-npu-month",
    ]);
    expect(day.budgets[2]).toMatchObject({ state: "over", limit: 1 });
  });

  it("checks a day budget filtered to one source against that source's day", async () => {
    const day = await read("daily/2026-11-27/report.json");
    const nlp = day.by_source.find((r: { source: string }) => r.source === "research.nlp");
    expect(day.budgets[0]).toMatchObject({
      name: "nlp-day",
      actual: nlp.gpu_hours,
      forecast: null,
      state: nlp.gpu_hours > 100 ? "over" : "ok",
    });
  });

  it("gives the month report its month budgets against its own totals", async () => {
    const month = await read("monthly/2026-11/report.json");
    expect(month.budgets.map((b: { name: string }) => b.name)).toEqual([
      "org-month",
      "eu-npu-month",
    ]);
    expect(month.budgets[0]).toMatchObject({
      actual: month.totals.gpu_hours,
      forecast: month.totals.gpu_hours,
    });
  });

  it("raised each budget alert once, and a rerun raises none again", async () => {
    const before = await read("alerts.json");
    const ids = before.alerts.map((a: { id: string }) => a.id);
    // eu-prod's NPU month budget (limit 1) went over on the 1st: one alert for the month.
    expect(ids.filter((id: string) => id.startsWith("budget:eu-npu-month:2026-11:over"))).toEqual([
      "budget:eu-npu-month:2026-11:over",
    ]);
    expect(new Set(ids).size).toBe(ids.length);
    const env = { REPORT_BUDGETS: JSON.stringify(BUDGETS) };
    expect(await runReportCli(["--date", "2026-11-27"], cliIo(env, RUN_AT + 60_000, cwd))).toBe(0);
    expect((await read("alerts.json")).alerts).toEqual(before.alerts);
  });
});
