import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runStartCli } from "../../src/cli/start.js";
import { sink } from "../helpers/sink.js";

/**
 * The daily digest locally (report.md §11): `npm start` prints it and writes it as digest.txt
 * beside the day's files; the demo's budgets are crossed by its data, so it shows alerts —
 * once: a second run of the same day raises none.
 */

const RUN_AT = Date.UTC(2026, 10, 28, 0, 30);
const KEY = "0123456789abcdef0123456789abcdef";
let cwd: string;
const start = async () => {
  const out = sink();
  const code = await runStartCli([], {
    stdout: out,
    stderr: sink(),
    env: { REPORT_LINK_KEY: KEY },
    now: () => RUN_AT,
    cwd,
  });
  expect(code).toBe(0);
  return out.text;
};

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "digest-"));
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

describe("the daily digest of npm start", () => {
  it("prints and writes the day's totals, top flavors, failures, budgets, new alerts and a link", async () => {
    const printed = await start();
    const digest = await readFile(join(cwd, "reports/daily/2026-11-27/digest.txt"), "utf8");
    expect(printed).toContain(digest);
    const report = JSON.parse(
      await readFile(join(cwd, "reports/daily/2026-11-27/report.json"), "utf8"),
    );
    expect(digest.split("\n")[0]).toBe("ModelArts usage 2026-11-27 (UTC)");
    expect(digest).toContain(
      `versions active ${report.totals.versions_active}, failed ${report.totals.versions_failed}`,
    );
    // The top five flavors by GPU-hours, as in report.json (those that burned any).
    const top = (report.by_flavor as { flavor_code: string; gpu_hours: number }[])
      .filter((f) => f.gpu_hours > 0)
      .sort((a, b) => b.gpu_hours - a.gpu_hours || a.flavor_code.localeCompare(b.flavor_code))
      .slice(0, 5)
      .map((f) => f.flavor_code);
    expect(top.length).toBeGreaterThan(2);
    const listed = [...digest.matchAll(/^ {2}\d\. (\S+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(top);
    expect(digest).toMatch(/org-gpu-month \(month\): forecast_over/);
    expect(digest).toMatch(
      /New alerts:\n {2}- budget org-gpu-month \(month 2026-11\) is forecast to go over/,
    );
    const link = /The day's page \(7 days\): (\S+)/.exec(digest)?.[1] ?? "";
    const url = new URL(link);
    expect(url.pathname).toBe("/reports/2026-11-27");
    expect(url.searchParams.get("scope")).toBe("day:2026-11-27");
    expect(Number(url.searchParams.get("expires"))).toBe(RUN_AT / 1000 + 7 * 86_400);
    const alerts = JSON.parse(await readFile(join(cwd, "reports/alerts.json"), "utf8"));
    expect(alerts.alerts.map((a: { id: string }) => a.id)).toContain(
      "budget:org-gpu-month:2026-11:forecast_over",
    );
  });

  it("raises nothing new when the same day is reported again", async () => {
    const before = await readFile(join(cwd, "reports/alerts.json"), "utf8");
    const printed = await start();
    expect(printed).toContain("No new alerts.");
    expect(await readFile(join(cwd, "reports/alerts.json"), "utf8")).toBe(before);
  });
});
