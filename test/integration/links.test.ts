import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { type ApiServer, startApiServer } from "../helpers/api-server.js";
import { apiGatewayEvent, lambdaContext } from "../helpers/apigw.js";
import { type Handlers, loadHandlers } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";
import { runOneSource } from "../helpers/one-source.js";
import { useRunSetup } from "../helpers/run-setup.js";

/**
 * Signed links over real HTTP: made with the bearer token (POST /links), opened without it,
 * with the page's own links followed, and refused when expired, tampered or out of scope.
 */

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const DATES = ["2026-11-26", "2026-11-27"] as const;
const API_TOKEN = `api-${randomUUID()}`;
const LINK_KEY = `key-${randomUUID()}-${randomUUID()}`;

const run = useRunSetup({
  projectId: "p",
  versions: generateWorkload({ versions: 300, seed: 4, now: NOW, days: 5 }),
  dirPrefix: "links-",
});
let server: ApiServer;
let store: FileStore;
let routes: Handlers["routes"];
const logLines: string[] = [];

beforeAll(async () => {
  captureOutput(logLines);
  store = new FileStore(join(run.dir, "reports"));
  await runOneSource(
    { versions: run.client(), store },
    {
      dates: [...DATES],
      timeZone: "UTC",
      failureStatuses: [3, 5, 6, 13],
      now: NOW,
      pageSize: 100,
      sourceInfo: { endpoint: "sim", projectId: "p", workspaceId: null, poolId: null },
    },
  );
  ({ routes } = await loadHandlers({
    REPORT_STORAGE: `file://${join(run.dir, "reports")}`,
    REPORT_API_TOKEN: API_TOKEN,
    REPORT_LINK_KEY: LINK_KEY,
  }));
  server = await startApiServer(routes);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await server?.close();
});

afterEach(() => {
  // No log line ever holds a signature or the token.
  const log = logLines.join("");
  expect(log).not.toMatch(/signature=[A-Za-z0-9_-]{20,}/);
  expect(log).not.toContain(API_TOKEN);
  expect(log).not.toContain(LINK_KEY);
});

async function makeLink(path: string, ttl: string | number = "1h"): Promise<string> {
  const res = await fetch(`${server.url}/links`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ path, ttl }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { url: string; scope: string; expires_at: string };
  return body.url;
}

/** As a browser asks: no Authorization header, HTML preferred. */
function browse(url: string, accept = "text/html,application/xhtml+xml,*/*;q=0.8") {
  return fetch(url, { headers: { accept }, redirect: "manual" });
}

const hrefs = (html: string) =>
  [...html.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] ?? "").replaceAll("&amp;", "&"));

describe("signed links", () => {
  it("opens the latest report's page without the token, with working download links", async () => {
    const url = await makeLink("/reports/latest?format=html", "7d");
    expect(new URL(url).origin).toBe(server.url);
    const page = await browse(url);
    expect(page.status).toBe(200);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cache-control")).toMatch(/private/);
    expect(page.headers.get("content-security-policy")).toContain("sandbox allow-downloads");
    const html = await page.text();
    expect(html).toContain("ModelArts usage 2026-11-27");
    const csv = hrefs(html).find((h) => h.includes("/files/usage.csv"));
    // Signed for that one file, not for the day (see the next test).
    expect(csv).toMatch(
      /^\/reports\/2026-11-27\/files\/usage\.csv\?scope=file%3Aday%3A2026-11-27%3Ausage\.csv&/,
    );
    const download = await browse(`${server.url}${csv}`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toBe(
      'attachment; filename="2026-11-27-usage.csv"',
    );
    expect(Buffer.from(await download.arrayBuffer())).toEqual(
      (await store.get("daily/2026-11-27/usage.csv"))?.body,
    );
  });

  it("signs a page's downloads for each file alone, so a latest link hands out nothing wider", async () => {
    // Found by review: the pages signed their downloads with the whole day's (or month's)
    // scope, so a link to the latest month handed out links that opened every day of it.
    const html = await (await browse(await makeLink("/reports/latest?format=html", "1h"))).text();
    const csv = new URL(hrefs(html).find((h) => h.includes("/files/usage.csv")) ?? "", server.url);
    expect((await browse(csv.href)).status).toBe(200);
    for (const path of [
      "/reports/2026-11-27",
      "/reports/2026-11-27/files/jobs.csv",
      "/reports/2026-11-26/files/usage.csv",
      "/reports/latest",
      "/reports",
    ]) {
      const res = await browse(`${server.url}${path}${csv.search}`, "application/json");
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "link_out_of_scope" } });
    }
  });

  it("takes each link in one spelling only: no padding bits, no leading zeros", async () => {
    const url = new URL(await makeLink("/reports/2026-11-27", "1h"));
    const signature = url.searchParams.get("signature") ?? "";
    // The last of 43 base64url characters carries 4 bits of the MAC and 2 unused ones.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(signature.at(-1) ?? "");
    const padded = new URL(url);
    padded.searchParams.set("signature", signature.slice(0, -1) + alphabet[last ^ 1]);
    const zeros = new URL(url);
    zeros.searchParams.set("expires", `0${url.searchParams.get("expires")}`);
    expect((await browse(url.href, "application/json")).status).toBe(200);
    for (const changed of [padded, zeros]) {
      const res = await browse(changed.href, "application/json");
      expect(res.status, changed.search).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "link_invalid" } });
    }
  });

  it("gives the page's own links minutes, never longer than the link it was opened with", async () => {
    const url = await makeLink("/reports/2026-11-27", "2m");
    const html = await (await browse(`${url}&format=html`)).text();
    const expiresOf = (h: string) => Number(new URL(h, server.url).searchParams.get("expires"));
    const parent = Number(new URL(url).searchParams.get("expires"));
    for (const h of hrefs(html).filter((x) => x.includes("/files/"))) {
      expect(expiresOf(h)).toBeLessThanOrEqual(parent);
    }
    const long = await makeLink("/reports/2026-11-27", "7d");
    const longHtml = await (await browse(`${long}&format=html`)).text();
    for (const h of hrefs(longHtml).filter((x) => x.includes("/files/"))) {
      expect(expiresOf(h) - Date.now() / 1000).toBeLessThanOrEqual(15 * 60 + 1);
    }
  });

  it("opens the listing as a page whose dates open their own pages", async () => {
    const url = await makeLink("/reports", "1h");
    const listing = await browse(url);
    expect(listing.status).toBe(200);
    const html = await listing.text();
    const day = hrefs(html).find((h) => h.startsWith("/reports/2026-11-26?"));
    expect(day).toBeDefined();
    const dayPage = await browse(`${server.url}${day}`);
    expect(dayPage.status).toBe(200);
    expect(await dayPage.text()).toContain("ModelArts usage 2026-11-26");
    // A script with the same link gets the JSON listing.
    const json = await browse(url, "application/json");
    const body = (await json.json()) as { reports: { report_date: string }[] };
    expect(body.reports.map((r) => r.report_date)).toEqual(["2026-11-27", "2026-11-26"]);
  });

  it("answers 403 with a readable page for an expired, a tampered and an out-of-scope link", async () => {
    const day = await makeLink("/reports/2026-11-27", 60);
    const longer = await makeLink("/reports/2026-11-27", "1h");
    const cases: [string, string][] = [];
    const tampered = new URL(longer);
    tampered.searchParams.set(
      "expires",
      String(Number(tampered.searchParams.get("expires")) + 3600),
    );
    cases.push([tampered.href, "link_invalid"]);
    const otherDay = new URL(longer);
    otherDay.pathname = "/reports/2026-11-26";
    cases.push([otherDay.href, "link_out_of_scope"]);
    const latest = new URL(await makeLink("/reports/latest", "1h"));
    latest.pathname = "/reports/2026-11-27";
    cases.push([latest.href, "link_out_of_scope"]);
    vi.useFakeTimers({ now: Date.now() + 61_000, toFake: ["Date"] });
    try {
      cases.push([day, "link_expired"]);
      for (const [url, code] of cases) {
        const page = await browse(url);
        expect(page.status, url).toBe(403);
        expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
        const html = await page.text();
        expect(html).toContain("This link does not open this page");
        expect(html, url).toContain(code);
        expect(html).not.toMatch(/stack|node_modules/);
        const json = await browse(url, "application/json");
        expect(json.status).toBe(403);
        expect(await json.json()).toMatchObject({ error: { code } });
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it("never opens a POST route, and keeps bearer access as it was", async () => {
    const url = new URL(await makeLink("/reports", "1h"));
    const post = await fetch(`${server.url}/reports${url.search}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"date":"2026-11-27"}',
    });
    expect(post.status).toBe(401);
    const bearer = await fetch(`${server.url}/reports/latest`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(bearer.status).toBe(200);
  });

  it("makes links only with the token, for known paths and at most 30 days", async () => {
    const post = (body: unknown, token: string | null = API_TOKEN) =>
      fetch(`${server.url}/links`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(body),
      });
    expect((await post({ path: "/reports" }, null)).status).toBe(401);
    for (const body of [
      { path: "/reports/2026-11-27/files/usage.csv" },
      { path: "/links" },
      { path: "/reports", ttl: "31d" },
      { path: "/reports", ttl: "10s" },
      { path: "/reports", ttl: "soon" },
      { path: "/reports", extra: 1 },
      {},
    ]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_body" } });
    }
    // A Host header that is no host name is the caller's 400, not a 500 from new URL().
    const odd = await routes["POST /links"](
      apiGatewayEvent({
        method: "POST",
        url: "/links",
        headers: {
          host: "a b",
          authorization: `Bearer ${API_TOKEN}`,
          "content-type": "application/json",
        },
        body: '{"path":"/reports/latest"}',
      }),
      lambdaContext(),
    );
    expect(odd.statusCode).toBe(400);
    expect(JSON.parse(odd.body ?? "")).toMatchObject({ error: { code: "invalid_host" } });
    // A path with trailing slashes names the same scope; the link must open it, not 404.
    const slashed = await post({ path: "/reports/2026-11-26//" });
    expect(slashed.status).toBe(201);
    const { url } = (await slashed.json()) as { url: string };
    expect(new URL(url).pathname).toBe("/reports/2026-11-26");
    expect((await browse(url, "application/json")).status).toBe(200);
    const made = (await (await post({ path: "/reports/latest" })).json()) as { expires_at: string };
    // Seven days by default.
    expect(Date.parse(made.expires_at) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
  });
});

describe("without a link key", () => {
  it("makes no link and opens none", async () => {
    const { routes } = await loadHandlers({
      REPORT_STORAGE: `file://${join(run.dir, "reports")}`,
      REPORT_API_TOKEN: API_TOKEN,
      REPORT_LINK_KEY: undefined,
    });
    const plain = await startApiServer(routes);
    try {
      const made = await fetch(`${plain.url}/links`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
        body: '{"path":"/reports"}',
      });
      expect(made.status).toBe(500);
      expect(await made.json()).toMatchObject({ error: { code: "not_configured" } });
      const url = new URL(await makeLink("/reports", "1h"));
      const refused = await browse(`${plain.url}/reports${url.search}`);
      expect(refused.status).toBe(403);
      // The page of a bearer request has plain links then.
      const html = await (
        await fetch(`${plain.url}/reports/2026-11-27?format=html`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        })
      ).text();
      expect(hrefs(html)).toContain("/reports/2026-11-27/files/usage.csv");
    } finally {
      await plain.close();
      vi.unstubAllEnvs();
    }
  });
});
