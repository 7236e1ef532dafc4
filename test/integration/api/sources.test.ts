import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, expectError, expectErrorBody } from "../../helpers/api-client.js";
import * as api from "../../helpers/api-fixture.js";
import { readCsv } from "../../helpers/csv.js";
import { ORG_DATE, ORG_MONTH, SOURCE_NAMES, writeOrgReport } from "../../helpers/org-report.js";

/**
 * One source's slice of an organisation's report (report.md §10): the routes
 * `/reports/{date}/sources/{name}` and `/reports/months/{month}/sources/{name}` in JSON, CSV,
 * jobs and HTML, over a hand-written report of four sources (test/helpers/org-report.ts)
 * stored next to the fixture's one-source days; and a team's signed link, which opens its
 * source and nothing else.
 */

api.useApiFixture({ errorsLogged: true });

const LINK_KEY = `key-${randomUUID()}-${randomUUID()}`;
const DAY_PATH = `/reports/${ORG_DATE}/sources/research.vision`;
const OTHERS = SOURCE_NAMES.filter((n) => n !== "research.vision");

beforeAll(async () => {
  for (const kind of api.STORE_KINDS) await writeOrgReport(api.subject(kind).filled);
});

interface Row extends Record<string, unknown> {
  source: string;
}
interface StoredJson {
  sources: { name: string }[];
  by_source: Row[];
  by_source_flavor_pool: Row[];
  anomalies: { by_source: Record<string, unknown> };
  failure_statuses: number[];
  currency: string | null;
}

/** The stored file, as the bearer's download route serves it. */
async function storedFile(kind: api.StoreKind, key: string): Promise<string> {
  return (await api.stored(api.subject(kind).filled, key)).toString("utf8");
}

/** The header and the rows of a stored CSV file whose `source` cell is `cell`. */
function rowsOf(text: string, cell: string): string[][] {
  const [header = [], ...rows] = readCsv(text);
  const at = header.indexOf("source");
  return [header, ...rows.filter((r) => r[at] === cell)];
}

describe.each(api.STORE_KINDS)("a source's slice over %s", (kind) => {
  api.useFilledStore(kind);

  it("answers the source's JSON: its entry, its by_source row, its rows and anomalies", async () => {
    const stored = JSON.parse(
      await storedFile(kind, `daily/${ORG_DATE}/report.json`),
    ) as StoredJson;
    const answer = await call(DAY_PATH);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      "schema_version",
      "report_date",
      "timezone",
      "window",
      "generated_at",
      "source",
      "totals",
      "by_flavor_pool",
      "anomalies",
      "failure_statuses",
      "currency",
    ]);
    const row = stored.by_source.find((r) => r.source === "research.vision");
    const { source: _, ...totals } = row ?? { source: "" };
    expect(body).toMatchObject({
      report_date: ORG_DATE,
      source: stored.sources.find((s) => s.name === "research.vision"),
      totals,
      by_flavor_pool: stored.by_source_flavor_pool
        .filter((r) => r.source === "research.vision")
        .map(({ source: _s, ...rest }) => rest),
      anomalies: { skipped: 0, duplicate_rows: 0 },
      failure_statuses: [3, 5, 6, 13],
      currency: null,
    });
    // 2 GPUs × 3 h + 4 GPUs × 2 h (org-report.ts); the failed one is version 7.
    expect(body.totals).toMatchObject({ gpu_hours: 14, versions_active: 2, versions_failed: 1 });
    expect(body.by_flavor_pool).toHaveLength(2);
    expect(answer.text).not.toMatch(/research\.nlp|"ops"|-edge/);
  });

  it("answers a month's slice, with the month's label field", async () => {
    const answer = await call(`/reports/months/${ORG_MONTH}/sources/research.nlp`);
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    expect(body.report_month).toBe(ORG_MONTH);
    // 1 GPU × 3 h; 8 NPUs × 1.5 h; its anomalies as its scan gave them (org-report.ts: i = 1).
    expect(body.totals).toMatchObject({ gpu_hours: 3, npu_hours: 12 });
    expect(body.anomalies).toEqual({ skipped: 1, duplicate_rows: 0 });
  });

  it("answers a source with no usage with zero totals and no rows", async () => {
    const body = JSON.parse((await call(`/reports/${ORG_DATE}/sources/ops`)).text) as {
      totals: { gpu_hours: number; versions_active: number };
      by_flavor_pool: unknown[];
    };
    expect(body.totals).toMatchObject({ gpu_hours: 0, versions_active: 0 });
    expect(body.by_flavor_pool).toEqual([]);
  });

  it.each([
    ["csv", "sources.csv"],
    ["jobs", "jobs.csv"],
  ])(
    "answers ?format=%s with the stored header and the source's rows of %s",
    async (format, file) => {
      for (const [name, cell] of [
        ["research.vision", "research.vision"],
        // A name starting with "-" is written as any text cell is: with a leading "'" (§5).
        ["-edge", "'-edge"],
      ] as const) {
        const answer = await call(`/reports/${ORG_DATE}/sources/${name}?format=${format}`);
        expect(answer.status).toBe(200);
        expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
        expect(answer.headers.get("content-disposition")).toBe(
          `attachment; filename="${ORG_DATE}-${name}-${file}"`,
        );
        const stored = await storedFile(kind, `daily/${ORG_DATE}/${file}`);
        const rows = rowsOf(stored, cell);
        expect(rows.length).toBeGreaterThan(1);
        expect(readCsv(answer.text)).toEqual(rows);
        // The rows are the stored bytes, in the stored order.
        for (const line of answer.text.split("\r\n").filter(Boolean))
          expect(stored).toContain(line);
      }
    },
  );

  it("lists a version id that two sources share once in each source's jobs", async () => {
    const vision = readCsv((await call(`${DAY_PATH}?format=jobs`)).text);
    const nlp = readCsv((await call(`/reports/${ORG_DATE}/sources/research.nlp?format=jobs`)).text);
    const ids = (rows: string[][]) => rows.slice(1).map((r) => r[1]);
    expect(ids(vision)).toEqual(["1", "7"]);
    expect(ids(nlp)).toEqual(["7", "9"]);
  });

  it.each(["", "?format=csv", "?format=jobs"])("answers 304 to a matching ETag (%s)", async (q) => {
    const first = await call(`${DAY_PATH}${q}`);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await call(`${DAY_PATH}${q}`, { headers: { "if-none-match": etag ?? "" } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    // Each source and format has its own.
    const other = await call(`/reports/${ORG_DATE}/sources/research.nlp${q}`);
    expect(other.headers.get("etag")).not.toBe(etag);
  });

  it("shows the source's page: its cards, its flavor × pool table, its jobs, its links", async () => {
    const page = await call(DAY_PATH, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.text).toContain(
      "<title>ModelArts usage 2026-11-20 · research.vision (UTC)</title>",
    );
    expect(page.text).toContain("GPU-hours</div>");
    expect(page.text).toContain("2 versions in this day's jobs.csv.");
    expect(page.text).toMatch(/<th scope="row" class="k" title="gpu.a100">gpu.a100<\/th>/);
    // A bearer's page links plainly: its own answers and the whole report.
    for (const href of [DAY_PATH, `${DAY_PATH}?format=csv`, `${DAY_PATH}?format=jobs`]) {
      expect(page.text).toContain(`href="${href.replaceAll("&", "&amp;")}"`);
    }
    expect(page.text).toContain(`href="/reports/${ORG_DATE}?format=html"`);
    for (const other of OTHERS) expect(page.text).not.toContain(other);
    expect(page.text).not.toMatch(/<script/i);
  });

  it("adds a by-source section to the day's and the month's page, each name a link", async () => {
    for (const [path, source] of [
      [`/reports/${ORG_DATE}?format=html`, `/reports/${ORG_DATE}/sources/`],
      [`/reports/months/${ORG_MONTH}?format=html`, `/reports/months/${ORG_MONTH}/sources/`],
    ] as const) {
      const page = (await call(path)).text;
      expect(page).toContain('<section id="sources"><h2>By source</h2>');
      expect(page).toContain("<figcaption>GPU-hours by source</figcaption>");
      for (const name of SOURCE_NAMES) {
        expect(page).toContain(`<a href="${source}${name}?format=html">${name}</a>`);
      }
    }
    // One source: no section.
    const single = (await call(`/reports/${api.LATEST}?format=html`)).text;
    expect(single).not.toContain("By source");
  });

  it("answers 404 for a source the report lacks, naming none of the others", async () => {
    const error = await expectError(call(`/reports/${ORG_DATE}/sources/finance`), 404, "not_found");
    expect(error.message).toContain('"finance"');
    for (const name of SOURCE_NAMES) expect(error.message).not.toContain(name);
    await expectError(call(`/reports/2026-11-19/sources/ops`), 404, "not_found");
    // The fixture's one-source days name their source "default" and no other.
    expect((await call(`/reports/${api.LATEST}/sources/default`)).status).toBe(200);
  });

  it.each([
    ["/reports/2026-11-20/sources/Research", 400, "invalid_source"],
    [`/reports/2026-11-20/sources/${"a".repeat(106)}`, 400, "invalid_source"],
    ["/reports/2026-11-20/sources/a%2Fb", 400, "invalid_source"],
    ["/reports/2026-11-20/sources/.x", 400, "invalid_source"],
    ["/reports/2026-11-31/sources/ops", 400, "invalid_date"],
    ["/reports/latest/sources/ops", 400, "invalid_date"],
    ["/reports/months/2026-13/sources/ops", 400, "invalid_month"],
    ["/reports/2026-11-20/sources/ops?format=xml", 400, "invalid_format"],
  ])("answers %s with %i %s", async (path, status, code) => {
    await expectError(call(path), status, code);
  });
});

describe.each(api.STORE_KINDS)("a source's slice of damaged files over %s", (kind) => {
  it("answers 502 invalid_stored_report for a CSV file that is not one the service writes", async () => {
    const { store, url } = api.subject(kind).fresh();
    await writeOrgReport(store);
    // A bare LF inside an unquoted cell: a changed file, not one of ours.
    const key = `daily/${ORG_DATE}/jobs.csv`;
    const jobs = (await api.stored(store, key)).toString("utf8");
    await store.put(key, jobs.replace("research.vision\r\n", "research\nvision\r\n"), "text/csv");
    await api.useStore(kind, url);
    const error = await expectError(call(`${DAY_PATH}?format=jobs`), 502, "invalid_stored_report");
    expect(error.message).toContain(key);
    // The slices that do not read it are unaffected.
    expect((await call(`${DAY_PATH}?format=csv`)).status).toBe(200);
  });
});

describe.each(api.STORE_KINDS)("a team's signed link over %s", (kind) => {
  api.useFilledStore(kind);
  beforeEach(async () => {
    await api.configure({ REPORT_LINK_KEY: LINK_KEY });
  });

  async function makeLink(path: string): Promise<URL> {
    const res = await call("/links", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path, ttl: "1h" }),
    });
    expect(res.status).toBe(201);
    const body = JSON.parse(res.text) as { url: string; scope: string };
    return new URL(body.url);
  }

  /** A link's URL on another path of the API (its signature kept), opened without a token. */
  const open = (link: URL, path = link.pathname, query = "") =>
    call(`${path}?${link.searchParams}${query}`, {
      token: null,
      headers: { accept: "application/json" },
    });

  it("opens the source's JSON, CSV, jobs and page, and nothing of the union", async () => {
    const link = await makeLink(DAY_PATH);
    expect(link.searchParams.get("scope")).toBe(`source:day:${ORG_DATE}:research.vision`);
    for (const format of ["json", "csv", "jobs"]) {
      expect((await open(link, DAY_PATH, `&format=${format}`)).status, format).toBe(200);
    }
    const page = await call(`${link.pathname}${link.search}`, {
      token: null,
      headers: { accept: "text/html" },
    });
    expect(page.status).toBe(200);
    // Every link on the page is signed with the source's scope, and none leads to the union.
    const hrefs = [...page.text.matchAll(/href="([^"]+)"/g)].map((m) =>
      (m[1] ?? "").replaceAll("&amp;", "&"),
    );
    expect(hrefs).toHaveLength(3);
    for (const href of hrefs) {
      const url = new URL(href, api.server.url);
      expect(url.pathname).toBe(DAY_PATH);
      expect(url.searchParams.get("scope")).toBe(`source:day:${ORG_DATE}:research.vision`);
      expect((await call(`${url.pathname}${url.search}`, { token: null })).status).toBe(200);
    }
    for (const path of [
      `/reports/${ORG_DATE}`,
      `/reports/${ORG_DATE}/files/report.json`,
      `/reports/${ORG_DATE}/files/jobs.csv`,
      `/reports/${ORG_DATE}/files/sources.csv`,
      `/reports/${ORG_DATE}/files/usage.csv`,
      `/reports/${ORG_DATE}/sources/research.nlp`,
      `/reports/months/${ORG_MONTH}/sources/research.vision`,
      `/reports/2026-11-19/sources/research.vision`,
      "/reports",
    ]) {
      const answer = await open(link, path);
      expect(answer.status, path).toBe(403);
      expect(expectErrorBody(answer.text).code).toBe("link_out_of_scope");
    }
  });

  it("is made from the union's page: a day link's page signs each source's own scope", async () => {
    const link = await makeLink(`/reports/${ORG_DATE}?format=html`);
    const page = await call(`${link.pathname}${link.search}`, { token: null });
    const href = /href="([^"]*\/sources\/research\.nlp[^"]*)"/.exec(page.text)?.[1];
    expect(href).toBeDefined();
    const url = new URL((href ?? "").replaceAll("&amp;", "&"), api.server.url);
    expect(url.searchParams.get("scope")).toBe(`source:day:${ORG_DATE}:research.nlp`);
    const source = await call(`${url.pathname}${url.search}`, { token: null });
    expect(source.status).toBe(200);
    expect(source.text).toContain("research.nlp");
    // Opened with the source's link, it does not lead back to the day.
    expect(source.text).not.toContain(`href="/reports/${ORG_DATE}?`);
  });

  it("refuses a source link made for a month on a day of it, and on another source", async () => {
    const link = await makeLink(`/reports/months/${ORG_MONTH}/sources/ops`);
    expect((await open(link)).status).toBe(200);
    expect((await open(link, `/reports/${ORG_DATE}/sources/ops`)).status).toBe(403);
    expect((await open(link, `/reports/months/${ORG_MONTH}/sources/-edge`)).status).toBe(403);
    expect((await open(link, `/reports/months/${ORG_MONTH}`)).status).toBe(403);
  });
});
