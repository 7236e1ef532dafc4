// The README's picture of a day's page with budgets (docs/page-budgets.png), made again:
//
//   npx tsx scripts/screenshot-budgets.ts            (Chromium at /usr/bin/chromium or $CHROMIUM)
//
// The built-in demo organisation with its budgets (src/simulator/demo.ts), on the clock the
// tests and the README's other pictures use (a run at 2026-11-28 00:30 UTC), reported for the
// first half of November into a temporary directory, so that the month budget has something to
// fill and a forecast beyond its limit. The storage is served as `npm run dev` serves it (the
// API's handlers behind the tests' stand-in for API Gateway), the day's page is opened from a
// signed link in headless Chromium at 1280 px, and the page's top down to the end of the budgets
// section (header, totals, budgets) is saved. Nothing is left behind but the picture.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { makeLink } from "../src/api/links.js";
import { ROUTE_LIST, type RouteKey, routeKey } from "../src/api/routes.js";
import { runReportCli } from "../src/cli/report.js";
import { startApiServer } from "../test/helpers/api-server.js";
import type { HttpLambda } from "../test/helpers/handlers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "docs/page-budgets.png");
const RUN_AT = Date.UTC(2026, 10, 28, 0, 30);
const FROM = "2026-11-01";
const DAY = "2026-11-27";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** The routes' handlers, loaded after the environment is set: they read it as they load. */
async function routes(): Promise<Record<RouteKey, HttpLambda>> {
  const entries = await Promise.all(
    ROUTE_LIST.map(async (route) => {
      const handler = typeof route.handler === "string" ? route.handler : route.handler.local;
      const at = handler.lastIndexOf(".");
      const loaded = (await import(join(ROOT, `${handler.slice(0, at)}.ts`))) as Record<
        string,
        HttpLambda
      >;
      return [routeKey(route), loaded[handler.slice(at + 1)] as HttpLambda] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<RouteKey, HttpLambda>;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "page-budgets-"));
  const storage = `file://${join(dir, "reports")}`;
  try {
    const code = await runReportCli(["--from", FROM, "--to", DAY], {
      stdout: process.stdout,
      stderr: process.stderr,
      env: { REPORT_STORAGE: storage },
      now: () => RUN_AT,
      cwd: dir,
    });
    if (code !== 0) throw new Error(`the demo report exited with ${code}`);

    const key = randomBytes(24).toString("base64url");
    Object.assign(process.env, {
      REPORT_STORAGE: storage,
      REPORT_LINK_KEY: key,
      REPORT_API_TOKEN: `api-${randomUUID()}`,
    });
    const server = await startApiServer(await routes());
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 900 },
        colorScheme: "light",
      });
      const { url } = makeLink(Buffer.from(key, "utf8"), {
        path: `/reports/${DAY}?format=html`,
        ttlSeconds: 3600,
        now: Date.now(),
        base: server.url,
      });
      const answer = await page.goto(url);
      if (answer?.status() !== 200) throw new Error(`the page answered ${answer?.status()}`);
      const budgets = page.locator("section", {
        has: page.locator("h2", { hasText: "Budgets" }),
      });
      const box = await budgets.boundingBox();
      if (box === null) throw new Error("the page has no budgets section");
      await page.screenshot({
        path: OUT,
        fullPage: true,
        clip: { x: 0, y: 0, width: 1280, height: Math.ceil(box.y + box.height + 16) },
      });
    } finally {
      await browser.close();
      await server.close();
    }
    process.stdout.write(`wrote ${OUT} (${(await stat(OUT)).size} bytes)\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
