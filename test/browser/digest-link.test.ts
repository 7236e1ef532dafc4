import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runStartCli } from "../../src/cli/start.js";
import { DEMO_BUDGETS } from "../../src/simulator/demo.js";
import { type ApiServer, startApiServer } from "../helpers/api-server.js";
import { chromiumPresent, launchChromium } from "../helpers/chromium.js";
import { loadHandlers } from "../helpers/handlers.js";
import { sink } from "../helpers/sink.js";

/**
 * The digest's link, opened by its reader: `npm start` (the demo organisation, through
 * runReportCli with the digest) prints the day's digest and writes digest.txt with a 7-day
 * signed link to the day's page on localhost:3000; the same storage, served by the API with the
 * same link key, answers that link in headless Chromium with the page of the day the digest is
 * about: its GPU-hours are the digest's, and the demo's budgets are drawn as bars with the
 * digest's states. The link with one character of its signature changed shows the 403 page.
 * Screenshots go to test-artifacts/ (or $TEST_ARTIFACTS).
 */

const ARTIFACTS = process.env.TEST_ARTIFACTS ?? join(process.cwd(), "test-artifacts");
const RUN_AT = Date.UTC(2026, 10, 28, 0, 30);
/** The reader opens the link an hour after the run (the server's clock; the link lives 7 days). */
const OPENED_AT = RUN_AT + 3_600_000;
/** 32 characters, the shortest key REPORT_LINK_KEY takes. */
const LINK_KEY = randomBytes(24).toString("base64url");
const API_TOKEN = `api-${randomUUID()}`;
/** The budget states in words, as the page writes them beside each bar. */
const WORDS: Record<string, string> = { ok: "ok", forecast_over: "forecast over", over: "over" };
const UNITS: Record<string, string> = { gpu_hours: " GPU-h", npu_hours: " NPU-h", cost: "" };

let cwd: string;
let digest: string;
let link: URL;
let server: ApiServer;
let browser: Browser;

/** Opens `url` with the server's clock at OPENED_AT; the answer's HTTP status. */
async function open(page: Page, url: string): Promise<number | undefined> {
  vi.useFakeTimers({ now: OPENED_AT, toFake: ["Date"] });
  try {
    return (await page.goto(url))?.status();
  } finally {
    vi.useRealTimers();
  }
}

/** The digest's line of a budget: its state, actual, forecast (month budgets) and limit. */
function digestBudget(name: string): { state: string; text: string } {
  const line = new RegExp(
    `^ {2}${name} \\((day|month)\\): (\\w+) — (\\S+?)(?:, forecast (\\S+))? of (\\S+)$`,
    "m",
  ).exec(digest);
  if (line === null) throw new Error(`no line for budget ${name} in the digest:\n${digest}`);
  const [, , state = "", actual, forecast, limit] = line;
  const metric = DEMO_BUDGETS.find((b) => b.name === name)?.metric ?? "";
  const of = `${actual}${forecast === undefined ? "" : ` (forecast ${forecast})`} of ${limit}`;
  return { state, text: `${of}${UNITS[metric]}: ${WORDS[state]}` };
}

describe.runIf(chromiumPresent())("the digest's link in a plain browser", () => {
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), "digest-link-"));
    const out = sink();
    const err = sink();
    const code = await runStartCli([], {
      stdout: out,
      stderr: err,
      env: { REPORT_LINK_KEY: LINK_KEY },
      now: () => RUN_AT,
      cwd,
    });
    expect(code, err.text).toBe(0);
    digest = await readFile(join(cwd, "reports/daily/2026-11-27/digest.txt"), "utf8");
    expect(out.text).toContain(digest);
    const printed = /^The day's page \(7 days\): (\S+)$/m.exec(out.text)?.[1];
    const written = /^The day's page \(7 days\): (\S+)$/m.exec(digest)?.[1];
    expect(written).toBeDefined();
    expect(printed).toBe(written);
    link = new URL(written ?? "");
    expect(link.origin).toBe("http://localhost:3000");

    // `npm run dev` on the same storage with the same key, on a port of its own.
    const { routes } = await loadHandlers({
      REPORT_STORAGE: `file://${join(cwd, "reports")}`,
      REPORT_API_TOKEN: API_TOKEN,
      REPORT_LINK_KEY: LINK_KEY,
    });
    server = await startApiServer(routes);
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    vi.unstubAllEnvs();
    if (cwd !== undefined) await rm(cwd, { recursive: true, force: true });
  });

  /** The digest's link with the helper server's origin in place of localhost:3000. */
  const served = (url: URL): string => `${server.url}${url.pathname}${url.search}`;

  it("opens the day's page with the digest's GPU-hours and the demo's budgets as bars", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      expect(await open(page, served(link))).toBe(200);
      const day = digest.split("\n")[0] ?? "";
      expect(day).toBe("ModelArts usage 2026-11-27 (UTC)");
      await expect(page.title()).resolves.toBe(day);
      const heading = page.locator("h1");
      expect(await heading.isVisible()).toBe(true);
      await expect(heading.textContent()).resolves.toBe(day);
      await page.screenshot({ path: join(ARTIFACTS, "digest-link-day.png"), fullPage: true });

      // The GPU-hours card: rounded for reading, the exact figure (the digest's) in its title.
      const gpuHours = /^GPU-hours (\S+)/m.exec(digest)?.[1] ?? "";
      const card = page.locator(".card", { has: page.locator(".l", { hasText: /^GPU-hours$/ }) });
      const figure = card.locator(".v");
      expect(await figure.isVisible()).toBe(true);
      await expect(figure.getAttribute("title")).resolves.toBe(gpuHours);
      const shown = Number((await figure.textContent())?.replaceAll(",", ""));
      expect(Math.abs(shown - Number(gpuHours))).toBeLessThanOrEqual(0.05);

      const section = page.locator("section", { has: page.locator("h2", { hasText: "Budgets" }) });
      await section.scrollIntoViewIfNeeded();
      await section.screenshot({ path: join(ARTIFACTS, "digest-link-budgets.png") });
      const bars = section.locator("figure.chart.budget");
      expect(await bars.count()).toBe(DEMO_BUDGETS.length);
      for (const [i, budget] of DEMO_BUDGETS.entries()) {
        const { state, text } = digestBudget(budget.name);
        const bar = bars.nth(i);
        await expect(bar.locator("figcaption").textContent()).resolves.toBe(
          `${budget.name} (${budget.period}, ${budget.metric})`,
        );
        expect(await bar.locator("svg").isVisible()).toBe(true);
        // The state in words beside the bar, and the figures under it, as in the digest.
        await expect(bar.locator("svg text").textContent()).resolves.toBe(WORDS[state]);
        await expect(bar.locator("p.meta").textContent()).resolves.toBe(text);
        // The actual is filled: a bar of some width inside the SVG.
        const filled = await bar.locator("svg rect").nth(1).boundingBox();
        expect(filled?.width ?? 0).toBeGreaterThan(1);
      }
      // The demo's data crosses both budgets (README, "The daily digest, locally").
      expect(digestBudget("org-gpu-month").state).toBe("forecast_over");
      expect(digestBudget("eu-prod-npu-day").state).toBe("over");
    } finally {
      await context.close();
    }
  }, 60_000);

  it("shows the 403 page for the link with one character of its signature changed", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const signature = link.searchParams.get("signature") ?? "";
      expect(signature.length).toBeGreaterThan(40);
      const tampered = new URL(link);
      // The first character: every bit of it is part of the HMAC (the last one's low bits are not).
      tampered.searchParams.set(
        "signature",
        `${signature[0] === "A" ? "B" : "A"}${signature.slice(1)}`,
      );
      expect(await open(page, served(tampered))).toBe(403);
      await expect(page.title()).resolves.toBe("This link does not open this page");
      expect(await page.content()).toContain("link_invalid");
      await page.screenshot({ path: join(ARTIFACTS, "digest-link-tampered.png") });
    } finally {
      await context.close();
    }
  }, 60_000);
});
