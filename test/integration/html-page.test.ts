import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { apiGatewayEvent, lambdaContext } from "../helpers/apigw.js";
import { CHROMIUM, chromiumPresent } from "../helpers/chromium.js";
import { loadHandlers } from "../helpers/handlers.js";
import { runOneSource } from "../helpers/one-source.js";

/**
 * The report page as a browser draws it: the handler renders the page of a real report, and
 * headless Chromium (Debian's `chromium`) takes screenshots at desktop and phone widths.
 * Without Chromium installed the screenshot test does not run, except under CI, where that fails.
 */

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const DATE = "2026-11-27";
const PROJECT = "proj-page";
const TOKEN = "page-token";
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Where the screenshots are kept for a person to look at, when set. */
const KEEP_DIR = process.env.HTML_PAGE_SCREENSHOTS;

const run = promisify(execFile);

let sim: Simulator;
let dir: string;
let html: string;

beforeAll(async () => {
  sim = await startSimulator({
    projectId: PROJECT,
    versions: generateWorkload({ versions: 1500, seed: 5, now: NOW, days: 10 }),
    auth: { tokens: ["t"] },
    pageCap: 100,
  });
  dir = await mkdtemp(join(tmpdir(), "html-page-"));
  const store = new FileStore(join(dir, "reports"));
  await runOneSource(
    {
      versions: new ModelArtsClient({
        endpoint: sim.url,
        projectId: PROJECT,
        auth: staticTokenAuth("t"),
      }),
      store,
    },
    {
      dates: [DATE],
      timeZone: "UTC",
      failureStatuses: [3, 5, 6, 13],
      now: NOW,
      pageSize: 100,
      sourceInfo: { endpoint: sim.url, projectId: PROJECT, workspaceId: null, poolId: null },
    },
  );
  const { routes } = await loadHandlers({
    REPORT_API_TOKEN: TOKEN,
    REPORT_STORAGE: `file://${join(dir, "reports")}`,
  });
  const result = await routes["GET /reports/{date}"](
    apiGatewayEvent({
      url: `/reports/${DATE}`,
      headers: { authorization: `Bearer ${TOKEN}`, accept: "text/html" },
    }),
    lambdaContext(),
  );
  expect(result.statusCode).toBe(200);
  html = result.body ?? "";
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await sim?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("the report page", () => {
  it("is one self-contained document about the date", () => {
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(`<title>ModelArts usage ${DATE} (UTC)</title>`);
    expect(html).toContain('name="viewport"');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import|src=/i);
  });

  it.runIf(chromiumPresent())(
    "renders in headless Chromium at 1200 px and 390 px wide",
    async () => {
      const page = join(dir, "report.html");
      await writeFile(page, html);
      for (const [width, height] of [
        [1200, 2600],
        [390, 5200],
      ] as const) {
        const png = join(dir, `report-${width}.png`);
        await run(
          CHROMIUM,
          [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            `--user-data-dir=${join(dir, `chromium-profile-${width}`)}`,
            `--screenshot=${png}`,
            `--window-size=${width},${height}`,
            pathToFileURL(page).href,
          ],
          { timeout: 90_000 },
        );
        expect((await stat(png)).size).toBeGreaterThan(10 * 1024);
        const bytes = await readFile(png);
        expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
        // IHDR: the width Chromium drew at is the width asked for.
        expect(bytes.readUInt32BE(16)).toBe(width);
        if (KEEP_DIR !== undefined) await writeFile(join(KEEP_DIR, `report-${width}.png`), bytes);
      }
    },
    180_000,
  );
});
