import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runReindexCli } from "../../src/cli/reindex.js";
import { runReportCli } from "../../src/cli/report.js";
import { runVerifyCli } from "../../src/cli/verify.js";
import { DAY, MONTH } from "../../src/report/period.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { HISTORY_KEY } from "../../src/storage/history.js";
import { readLatestLabel } from "../../src/storage/pointers.js";
import { type ApiServer, startApiServer } from "../helpers/api-server.js";
import { readCsv } from "../helpers/csv.js";
import { loadHandlers } from "../helpers/handlers.js";
import { useRunSetup } from "../helpers/run-setup.js";
import { cliIo, simulatorEnv } from "../helpers/sink.js";

/**
 * Month reports end to end: `npm run report -- --month`, the files and latest-month.json,
 * the month routes over HTTP, `npm run verify -- --month`, the history index behind
 * GET /reports, and `npm run reindex`.
 */

const NOW = Date.UTC(2026, 11, 2, 0, 30);
const API_TOKEN = `api-${randomUUID()}`;
const run = useRunSetup({
  projectId: "p",
  versions: generateWorkload({ versions: 1500, seed: 12, now: NOW, days: 45 }),
  pageCap: 100,
  dirPrefix: "months-",
});
let root: string;
let store: FileStore;
let server: ApiServer;

function io(extra: Record<string, string> = {}) {
  return cliIo({ ...simulatorEnv(run.sim.url, "p", root), ...extra }, NOW, run.dir);
}

const call = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${API_TOKEN}`, ...headers },
    redirect: "manual",
  });

beforeAll(async () => {
  root = join(run.dir, "reports");
  store = new FileStore(root);
  const { routes } = await loadHandlers({
    REPORT_STORAGE: `file://${root}`,
    REPORT_API_TOKEN: API_TOKEN,
  });
  server = await startApiServer(routes);
});

afterAll(async () => {
  await server?.close();
  vi.unstubAllEnvs();
});

describe("a month report", () => {
  it("is written by npm run report -- --month, with latest-month.json", async () => {
    const cli = io();
    expect(await runReportCli(["--month", "2026-11"], cli)).toBe(0);
    expect(cli.stdout.text).toContain(`wrote file://${root}/monthly/2026-11/report.json`);
    expect(cli.stdout.text).toContain("latest-month.json → 2026-11");
    expect(cli.stdout.text).not.toContain("latest.json →");
    const report = JSON.parse(
      (await store.get("monthly/2026-11/report.json"))?.body.toString() ?? "",
    );
    expect(report).toMatchObject({
      schema_version: 1,
      report_month: "2026-11",
      timezone: "UTC",
      window: { start: "2026-11-01T00:00:00+00:00", end: "2026-12-01T00:00:00+00:00" },
    });
    expect(report.report_date).toBeUndefined();
    const usage = readCsv((await store.get("monthly/2026-11/usage.csv"))?.body.toString() ?? "");
    expect(usage[0]?.[0]).toBe("report_month");
    expect(usage.slice(1).every((row) => row[0] === "2026-11")).toBe(true);
    const jobs = readCsv((await store.get("monthly/2026-11/jobs.csv"))?.body.toString() ?? "");
    expect(jobs[0]?.[0]).toBe("report_month");
    expect(JSON.parse((await store.get("latest-month.json"))?.body.toString() ?? "")).toMatchObject(
      {
        report_month: "2026-11",
        files: { "report.json": "monthly/2026-11/report.json" },
      },
    );
    // A month alone moves no daily pointer.
    expect(await store.has("latest.json")).toBe(false);
    expect(await readLatestLabel(store, MONTH)).toBe("2026-11");
    expect(await readLatestLabel(store, DAY)).toBeUndefined();
  });

  it("verifies against its manifest", async () => {
    const cli = io();
    expect(await runVerifyCli(["--month", "2026-11", "--storage", `file://${root}`], cli)).toBe(0);
    expect(cli.stdout.text).toContain("2026-11: verified");
  });

  it("refuses a month that has not ended, and a month with a date", async () => {
    const december = io();
    expect(await runReportCli(["--month", "2026-12"], december)).toBe(2);
    expect(december.stderr.text).toMatch(/2026-12 has not ended yet in UTC/);
    const both = io();
    expect(await runReportCli(["--month", "2026-11", "--date", "2026-11-03"], both)).toBe(2);
    expect(both.stderr.text).toMatch(/give either --month or --date/);
  });

  it("is served by the month routes: JSON, CSV, the page, its files, and the listing", async () => {
    const stored = (await store.get("monthly/2026-11/report.json"))?.body.toString();
    for (const path of ["/reports/months/latest", "/reports/months/2026-11"]) {
      const answer = await call(path);
      expect(answer.status, path).toBe(200);
      expect(await answer.text()).toBe(stored);
      const etag = answer.headers.get("etag") ?? "";
      expect((await call(path, { "if-none-match": etag })).status).toBe(304);
    }
    const csv = await call("/reports/months/2026-11?format=csv");
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(await csv.text()).toBe((await store.get("monthly/2026-11/usage.csv"))?.body.toString());
    const page = await call("/reports/months/2026-11?format=html");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("2026-11");
    const file = await call("/reports/months/2026-11/files/jobs.csv");
    expect(file.status).toBe(200);
    expect(file.headers.get("content-disposition")).toBe('attachment; filename="2026-11-jobs.csv"');
    const listing = await call("/reports/months");
    expect(await listing.json()).toEqual({
      months: [{ report_month: "2026-11", generated_at: new Date(NOW).toISOString() }],
      next_cursor: null,
    });
    const missing = await call("/reports/months/2026-09");
    expect(missing.status).toBe(404);
    const bad = await call("/reports/months/2026-13");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_month" } });
  });
});

describe("the history index", () => {
  it("is written by each run and lists the days for GET /reports", async () => {
    const cli = io();
    expect(await runReportCli(["--from", "2026-11-28", "--to", "2026-11-30"], cli)).toBe(0);
    const history = JSON.parse((await store.get(HISTORY_KEY))?.body.toString() ?? "");
    expect(history.days.map((d: { date: string }) => d.date)).toEqual([
      "2026-11-28",
      "2026-11-29",
      "2026-11-30",
    ]);
    const day = history.days[2];
    const report = JSON.parse(
      (await store.get("daily/2026-11-30/report.json"))?.body.toString() ?? "",
    );
    expect(day.totals.gpu_hours).toBe(report.totals.gpu_hours);
    expect(day.pools).toHaveLength(report.by_pool.length);
    expect(await readLatestLabel(store, DAY)).toBe("2026-11-30");
    expect(await readLatestLabel(store, "month")).toBe("2026-11");
    const listing = (await (await call("/reports")).json()) as {
      reports: { report_date: string }[];
    };
    expect(listing.reports.map((r) => r.report_date)).toEqual([
      "2026-11-30",
      "2026-11-29",
      "2026-11-28",
    ]);
  });

  it("is rebuilt by npm run reindex when lost or damaged, and the listing falls back meanwhile", async () => {
    await store.put(HISTORY_KEY, "{ damaged", "application/json");
    const listing = (await (await call("/reports")).json()) as {
      reports: { report_date: string }[];
    };
    expect(listing.reports).toHaveLength(3);
    const cli = io();
    expect(await runReindexCli(["--storage", `file://${root}`], cli)).toBe(0);
    expect(cli.stdout.text).toContain("history.json rebuilt from 3 daily reports");
    const history = JSON.parse((await store.get(HISTORY_KEY))?.body.toString() ?? "");
    expect(history.days).toHaveLength(3);
    await store.delete(HISTORY_KEY);
    // A run that finds it missing rebuilds it first, so no earlier day is lost from it.
    expect(await runReportCli(["--date", "2026-11-27"], io())).toBe(0);
    const rebuilt = JSON.parse((await store.get(HISTORY_KEY))?.body.toString() ?? "");
    expect(rebuilt.days.map((d: { date: string }) => d.date)).toEqual([
      "2026-11-27",
      "2026-11-28",
      "2026-11-29",
      "2026-11-30",
    ]);
  });

  it("feeds the 30-day view of a day's page", async () => {
    const html = await (await call("/reports/2026-11-30?format=html")).text();
    expect(html).toContain("2026-11-28");
    expect(html).toContain("2026-11-29");
  });
});
