import { randomUUID } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/storage/s3-store.js";
import { type ApiServer, startApiServer } from "../helpers/api-server.js";
import { chromiumPresent, launchChromium } from "../helpers/chromium.js";
import { readCsv } from "../helpers/csv.js";
import { loadHandlers, localS3Env } from "../helpers/handlers.js";
import { ORG_DATE, writeOrgReport } from "../helpers/org-report.js";
import { type LocalS3, startS3 } from "../helpers/s3.js";

/**
 * A team with its link: headless Chromium opens a signed link to one source's page of an
 * organisation's report (test/helpers/org-report.ts, stored in s3rver), downloads its rows of
 * sources.csv and jobs.csv from the page's links, and gets the 403 page for the union's
 * jobs.csv and for another team's page with the same signature. Screenshots go to
 * test-artifacts/ (or $TEST_ARTIFACTS).
 */

const ARTIFACTS = process.env.TEST_ARTIFACTS ?? join(process.cwd(), "test-artifacts");
const API_TOKEN = `api-${randomUUID()}`;
const LINK_KEY = `key-${randomUUID()}-${randomUUID()}`;
const BUCKET = "source-links";
const TEAM = "research.vision";

let s3: LocalS3;
let server: ApiServer;
let browser: Browser;

async function link(path: string): Promise<string> {
  const res = await fetch(`${server.url}/links`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ path, ttl: "1d" }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { url: string }).url;
}

/** The header and the rows of a stored file whose `source` cell is the team's. */
async function teamRows(file: string): Promise<string[][]> {
  const stored = new S3Store({ bucket: BUCKET, prefix: "reports", client: s3.client });
  const body = (await stored.get(`daily/${ORG_DATE}/${file}`))?.body.toString("utf8") ?? "";
  const [header = [], ...rows] = readCsv(body);
  return [header, ...rows.filter((r) => r[header.indexOf("source")] === TEAM)];
}

describe.runIf(chromiumPresent())("a team's signed link in a plain browser", () => {
  beforeAll(async () => {
    s3 = await startS3();
    await s3.createBucket(BUCKET);
    await writeOrgReport(new S3Store({ bucket: BUCKET, prefix: "reports", client: s3.client }));
    const { routes } = await loadHandlers({
      ...localS3Env(s3.endpoint),
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
    await s3?.close();
  });

  it("opens the team's page and downloads its rows of sources.csv and jobs.csv", async () => {
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await context.newPage();
      const answer = await page.goto(await link(`/reports/${ORG_DATE}/sources/${TEAM}`));
      expect(answer?.status()).toBe(200);
      await expect(page.title()).resolves.toBe(`ModelArts usage ${ORG_DATE} · ${TEAM} (UTC)`);
      await page.screenshot({ path: join(ARTIFACTS, "source-link-page.png"), fullPage: true });
      for (const [name, file] of [
        ["sources.csv rows", "sources.csv"],
        ["jobs.csv rows", "jobs.csv"],
      ] as const) {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("link", { name }).click(),
        ]);
        expect(download.suggestedFilename()).toBe(`${ORG_DATE}-${TEAM}-${file}`);
        const saved = readCsv(await readFile(await download.path(), "utf8"));
        expect(saved).toEqual(await teamRows(file));
        expect(saved.length).toBeGreaterThan(1);
      }
      // Nothing on the page leads to the union or to another team.
      const hrefs = await page.locator("a").evaluateAll(
        // Runs in the page; the project's types have no DOM.
        (as) => as.map((a) => (a as unknown as { href: string }).href),
      );
      expect(hrefs).toHaveLength(3);
      for (const href of hrefs)
        expect(new URL(href).pathname).toBe(`/reports/${ORG_DATE}/sources/${TEAM}`);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("lists the sources on the day's page, and opens a team's page from its name", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      expect((await page.goto(await link(`/reports/${ORG_DATE}?format=html`)))?.status()).toBe(200);
      const section = page.locator("section#sources");
      await section.screenshot({ path: join(ARTIFACTS, "source-section.png") });
      expect(await section.locator("figure.chart svg g").count()).toBe(3); // ops has no bar
      await Promise.all([
        page.waitForURL(/\/sources\/research\.nlp\?/),
        section.getByRole("link", { name: "research.nlp" }).click(),
      ]);
      await expect(page.title()).resolves.toBe(`ModelArts usage ${ORG_DATE} · research.nlp (UTC)`);
      expect(new URL(page.url()).searchParams.get("scope")).toBe(
        `source:day:${ORG_DATE}:research.nlp`,
      );
    } finally {
      await context.close();
    }
  }, 60_000);

  it("shows the 403 page for the union's jobs.csv and another team's page", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const team = new URL(await link(`/reports/${ORG_DATE}/sources/${TEAM}`));
      for (const [path, shot] of [
        [`/reports/${ORG_DATE}/files/jobs.csv`, "source-link-union-jobs.png"],
        [`/reports/${ORG_DATE}/sources/research.nlp`, "source-link-other-team.png"],
        [`/reports/${ORG_DATE}`, "source-link-union.png"],
      ] as const) {
        const url = new URL(team);
        url.pathname = path;
        const answer = await page.goto(url.href);
        expect(answer?.status(), path).toBe(403);
        await expect(page.title()).resolves.toBe("This link does not open this page");
        expect(await page.content()).toContain("link_out_of_scope");
        expect(await page.content()).not.toContain("research.nlp");
        await page.screenshot({ path: join(ARTIFACTS, shot) });
      }
    } finally {
      await context.close();
    }
  }, 60_000);
});
