import { randomUUID } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { datesInRange } from "../../src/report/time.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { S3Store } from "../../src/storage/s3-store.js";
import { type ApiServer, startApiServer } from "../helpers/api-server.js";
import { chromiumPresent, launchChromium } from "../helpers/chromium.js";
import { loadHandlers, localS3Env } from "../helpers/handlers.js";
import { runOneSource } from "../helpers/one-source.js";
import { useRunSetup } from "../helpers/run-setup.js";

/**
 * A person with a link: headless Chromium (Debian's `chromium`) opens a signed link to the
 * latest report, sees the page, clicks its usage.csv link (the API redirects to a presigned
 * S3 URL, s3rver here) and receives the stored bytes; an expired and a tampered link show the
 * 403 page. Every chart is drawn inside its SVG's view box. Screenshots go to test-artifacts/
 * (or $TEST_ARTIFACTS), not into git. Without Chromium installed the test does not run, except
 * under CI, where that fails.
 */

const ARTIFACTS = process.env.TEST_ARTIFACTS ?? join(process.cwd(), "test-artifacts");
const NOW = Date.UTC(2026, 10, 28, 0, 30);
const API_TOKEN = `api-${randomUUID()}`;
const LINK_KEY = `key-${randomUUID()}-${randomUUID()}`;
const BUCKET = "browser-reports";

let server: ApiServer;
let browser: Browser;
let store: S3Store;

async function link(path: string, ttl: string | number): Promise<string> {
  const res = await fetch(`${server.url}/links`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ path, ttl }),
  });
  return ((await res.json()) as { url: string }).url;
}

/**
 * What of each chart on the page lies outside its SVG's view box (it would be cut off): every
 * rect and text, in the SVG's own units, with a quarter of a unit for rounding.
 */
async function outsideViewBox(page: Page): Promise<string[]> {
  // Runs in the page (browser JavaScript, as text: this project's types have no DOM).
  const script = `(() => {
    const outside = [];
    for (const svg of document.querySelectorAll("figure.chart svg")) {
      const box = svg.viewBox.baseVal;
      const toSvg = svg.getScreenCTM().inverse();
      const caption = svg.closest("figure").querySelector("figcaption").textContent;
      for (const shape of svg.querySelectorAll("rect, text")) {
        const b = shape.getBBox();
        const m = toSvg.multiply(shape.getScreenCTM());
        const p = new DOMPoint(b.x, b.y).matrixTransform(m);
        const q = new DOMPoint(b.x + b.width, b.y + b.height).matrixTransform(m);
        const slack = 0.25;
        const [x0, x1, y0, y1] = [Math.min(p.x, q.x), Math.max(p.x, q.x), Math.min(p.y, q.y), Math.max(p.y, q.y)];
        if (x0 < box.x - slack || x1 > box.x + box.width + slack || y0 < box.y - slack || y1 > box.y + box.height + slack) {
          outside.push(caption + ": <" + shape.tagName + ' class="' + (shape.getAttribute("class") ?? "") + '"> "' +
            (shape.textContent ?? "").slice(0, 30) + '" at x ' + x0.toFixed(1) + "-" + x1.toFixed(1) + " of " + box.width);
        }
      }
    }
    return outside;
  })()`;
  return (await page.evaluate(script)) as string[];
}

describe.runIf(chromiumPresent())("a signed link in a plain browser", () => {
  const run = useRunSetup({
    projectId: "p",
    versions: generateWorkload({ versions: 4000, seed: 9, now: NOW, days: 70 }),
    pageCap: 100,
    s3Bucket: BUCKET,
  });

  beforeAll(async () => {
    store = new S3Store({ bucket: BUCKET, prefix: "reports", client: run.s3.client });
    await runOneSource(
      { versions: run.client(), store },
      {
        // A month of days (for the 30-day view) and the month before as one report.
        dates: datesInRange("2026-10-01", "2026-11-27"),
        month: "2026-10",
        timeZone: "UTC",
        failureStatuses: [3, 5, 6, 13],
        now: NOW,
        pageSize: 100,
        sourceInfo: { endpoint: run.sim.url, projectId: "p", workspaceId: null, poolId: null },
      },
    );
    const { routes } = await loadHandlers({
      ...localS3Env(run.s3.endpoint),
      REPORT_STORAGE: `s3://${BUCKET}/reports`,
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
  });

  it("shows the latest report and downloads its usage.csv from a click", async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    try {
      const page = await context.newPage();
      const answer = await page.goto(await link("/reports/latest?format=html", "7d"));
      expect(answer?.status()).toBe(200);
      await expect(page.title()).resolves.toBe("ModelArts usage 2026-11-27 (UTC)");
      await page.screenshot({ path: join(ARTIFACTS, "signed-link-latest.png"), fullPage: true });
      await page.screenshot({ path: join(ARTIFACTS, "signed-link-latest-top.png") });
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: "usage.csv" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe("2026-11-27-usage.csv");
      const saved = await download.path();
      const stored = (await store.get("daily/2026-11-27/usage.csv"))?.body;
      expect(await readFile(saved)).toEqual(stored);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("draws every chart of a day's and a month's page inside its view box at 1280 px", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      for (const path of ["/reports/latest?format=html", "/reports/months/2026-10?format=html"]) {
        expect((await page.goto(await link(path, "1h")))?.status()).toBe(200);
        expect(await page.locator("figure.chart svg").count()).toBeGreaterThanOrEqual(3);
        expect(await outsideViewBox(page)).toEqual([]);
      }
      await page.goto(await link("/reports/latest?format=html", "1h"));
      await page
        .locator("section", { hasText: "The last 30 days" })
        .first()
        .screenshot({ path: join(ARTIFACTS, "signed-link-latest-trend.png") });
    } finally {
      await context.close();
    }
  }, 60_000);

  it("opens a month's page from a month link, and its days from there", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const answer = await page.goto(await link("/reports/months/2026-10?format=html", "1d"));
      expect(answer?.status()).toBe(200);
      await expect(page.title()).resolves.toBe("ModelArts usage 2026-10 (UTC)");
      await page.screenshot({ path: join(ARTIFACTS, "signed-link-month.png") });
      await page.screenshot({
        path: join(ARTIFACTS, "signed-link-month-full.png"),
        fullPage: true,
      });
      // A day of the month is within the month's scope: its link is signed and opens.
      const dayLink = page.locator('a[href*="/reports/2026-10-30?"]').first();
      await Promise.all([page.waitForURL(/\/reports\/2026-10-30\?/), dayLink.click()]);
      await expect(page.title()).resolves.toBe("ModelArts usage 2026-10-30 (UTC)");
      // The day page shows its last 30 days; days of November are outside the month's scope,
      // so they are not links here.
      expect(await page.locator('a[href*="/reports/2026-11-"]').count()).toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, "signed-link-month-day.png") });
    } finally {
      await context.close();
    }
  }, 60_000);

  it("shows the 403 page for an expired and for a tampered link", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const tampered = new URL(await link("/reports/2026-11-27", "1h"));
      tampered.pathname = "/reports/2026-11-26";
      tampered.searchParams.set("scope", "day:2026-11-26");
      const expired = await link("/reports/latest", 60);
      const cases: [string, string, string, number][] = [
        [tampered.href, "link_invalid", "signed-link-tampered.png", 0],
        // The server's clock a minute and a second on: the genuine link has expired.
        [expired, "link_expired", "signed-link-expired.png", 61_000],
      ];
      for (const [url, code, shot, skew] of cases) {
        if (skew > 0) vi.useFakeTimers({ now: Date.now() + skew, toFake: ["Date"] });
        try {
          const answer = await page.goto(url);
          expect(answer?.status()).toBe(403);
        } finally {
          vi.useRealTimers();
        }
        await expect(page.title()).resolves.toBe("This link does not open this page");
        expect(await page.content()).toContain(code);
        await page.screenshot({ path: join(ARTIFACTS, shot) });
      }
    } finally {
      await context.close();
    }
  }, 60_000);
});
