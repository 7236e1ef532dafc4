import { describe, expect, it } from "vitest";
import { call, expectError } from "../../helpers/api-client.js";
import * as api from "../../helpers/api-fixture.js";

/**
 * Reading reports: the listing, latest and one date, in JSON, CSV and HTML.
 * Set-up and client: test/helpers/api-fixture.ts and api-client.ts.
 */

api.useApiFixture({ errorsLogged: false });

describe.each(api.STORE_KINDS)("the report API over %s", (kind) => {
  api.useFilledStore(kind);

  describe("GET /reports", () => {
    it("lists every date newest first with when it was generated", async () => {
      const answer = await call("/reports");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(JSON.parse(answer.text)).toEqual({
        reports: [...api.DATES]
          .reverse()
          .map((report_date) => ({ report_date, generated_at: "2026-11-28T00:30:00.000Z" })),
        next_cursor: null,
      });
    });

    it.each([1, 2])("walks all dates in pages of %i by following next_cursor", async (limit) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
        const answer = await call(`/reports?${query}`);
        expect(answer.status).toBe(200);
        const page = JSON.parse(answer.text) as {
          reports: { report_date: string; generated_at: string }[];
          next_cursor: string | null;
        };
        expect(page.reports.length).toBeLessThanOrEqual(limit);
        for (const report of page.reports) {
          expect(report.generated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
          seen.push(report.report_date);
        }
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor !== null && pages < 10);
      expect(seen).toEqual([...api.DATES].reverse());
      expect(pages).toBe(Math.ceil(api.DATES.length / limit));
    });

    it("pages with limit=100 and default to one page", async () => {
      const answer = await call("/reports?limit=100");
      expect(JSON.parse(answer.text).reports).toHaveLength(api.DATES.length);
    });

    it.each(["0", "101", "abc", "-1", "1.5", "", "1e1", "1,2"])(
      "refuses limit=%s with 400 invalid_limit",
      async (limit) => {
        await expectError(
          call(`/reports?limit=${encodeURIComponent(limit)}`),
          400,
          "invalid_limit",
        );
      },
    );

    it("joins a repeated limit as API Gateway does and refuses it", async () => {
      await expectError(call("/reports?limit=1&limit=2"), 400, "invalid_limit");
    });

    it.each([
      ["garbage", "!!!"],
      ["base64 of something else", Buffer.from("not-a-date").toString("base64url")],
      ["base64 of a day that does not exist", Buffer.from("2026-02-30").toString("base64url")],
      ["a NUL", "\0"],
      ["too long", "A".repeat(200)],
      ["empty", ""],
    ])("refuses a malformed cursor (%s) with 400 invalid_cursor", async (_label, cursor) => {
      await expectError(
        call(`/reports?cursor=${encodeURIComponent(cursor)}`),
        400,
        "invalid_cursor",
      );
    });

    it("answers 200 with no reports on an empty store", async () => {
      await api.useStore(kind, api.subject(kind).emptyUrl);
      const answer = await call("/reports");
      expect(JSON.parse(answer.text)).toEqual({ reports: [], next_cursor: null });
    });
  });

  describe("GET /reports/latest and /reports/{date}", () => {
    it("answers /reports/latest with the newest report.json, byte for byte", async () => {
      const answer = await call("/reports/latest");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(answer.bytes).toEqual(
        await api.stored(api.subject(kind).filled, `daily/${api.LATEST}/report.json`),
      );
      expect(JSON.parse(answer.text)).toMatchObject({ schema_version: 1, report_date: api.LATEST });
    });

    it("answers 404 no_report for latest on an empty store", async () => {
      await api.useStore(kind, api.subject(kind).emptyUrl);
      await expectError(call("/reports/latest"), 404, "no_report");
      await expectError(call("/reports/latest?format=csv"), 404, "no_report");
    });

    it.each(api.DATES)("answers /reports/%s with that date's report.json", async (date) => {
      const answer = await call(`/reports/${date}`);
      expect(answer.status).toBe(200);
      expect(answer.bytes).toEqual(
        await api.stored(api.subject(kind).filled, `daily/${date}/report.json`),
      );
    });

    it.each(["2026-02-30", "2026-1-1", "20261127", "2026-11-27x", "2026-13-01", "latest2"])(
      "answers 400 invalid_date for %s",
      async (date) => {
        await expectError(call(`/reports/${date}`), 400, "invalid_date");
      },
    );

    it("answers 404 not_found for a date without a report", async () => {
      await expectError(call("/reports/2026-11-01"), 404, "not_found");
      await expectError(call("/reports/2026-11-01?format=csv"), 404, "not_found");
      await expectError(call("/reports/2026-11-01?format=html"), 404, "not_found");
    });

    it.each(["latest", api.LATEST])(
      "answers /reports/%s?format=csv with the usage.csv bytes",
      async (which) => {
        const answer = await call(`/reports/${which}?format=csv`);
        expect(answer.status).toBe(200);
        expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
        expect(answer.bytes).toEqual(
          await api.stored(api.subject(kind).filled, `daily/${api.LATEST}/usage.csv`),
        );
        expect(answer.text.startsWith("report_date,flavor_code,pool_id,")).toBe(true);
      },
    );

    it.each([
      ["?format=html", {}],
      ["", { accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8" }],
    ])("answers %s %j with a page about the date, without scripts", async (query, headers) => {
      const answer = await call(`/reports/2026-11-26${query}`, { headers });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.text).toMatch(/^<!doctype html>/i);
      expect(answer.text).toContain("2026-11-26");
      expect(answer.text).toContain("GPU-hours by flavor");
      expect(answer.text).not.toMatch(/<script|<link|src="http/i);
      expect(answer.headers.get("content-security-policy")).toContain("default-src 'none'");
    });

    it.each([
      ["text/html", "html"],
      ["TEXT/HTML", "html"],
      ["text/*", "html"],
      ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"],
      ["*/*", "json"],
      ["application/json", "json"],
      ["application/json, text/html;q=0.5", "json"],
      ["text/html;q=0.5, application/json", "json"],
      ["text/html;q=0, */*", "json"],
      ["text/html;q=abc", "json"],
      ["text/htmlx", "json"],
      ["", "json"],
    ])("answers Accept: %s with %s", async (accept, format) => {
      const answer = await call(`/reports/${api.LATEST}`, { headers: { accept } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toMatch(
        format === "html" ? /^text\/html/ : /^application\/json/,
      );
      expect(answer.headers.get("vary")).toMatch(/accept/i);
    });

    it("lets ?format win over Accept", async () => {
      const answer = await call(`/reports/${api.LATEST}?format=csv`, {
        headers: { accept: "text/html" },
      });
      expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    });

    it.each(["xml", "", "CSV", "html5"])(
      "answers 400 invalid_format for format=%s",
      async (format) => {
        await expectError(call(`/reports/${api.LATEST}?format=${format}`), 400, "invalid_format");
      },
    );

    it.each([
      ["JSON", ""],
      ["CSV", "?format=csv"],
    ])("sends an ETag on %s and 304 for a matching If-None-Match", async (_label, query) => {
      const first = await call(`/reports/${api.LATEST}${query}`);
      const etag = first.headers.get("etag");
      expect(etag).toMatch(/^"[^"]+"$/);
      for (const ifNoneMatch of [etag ?? "", `W/${etag}`, `"stale", ${etag}`, "*"]) {
        const again = await call(`/reports/${api.LATEST}${query}`, {
          headers: { "if-none-match": ifNoneMatch },
        });
        expect(again.status, ifNoneMatch).toBe(304);
        expect(again.bytes).toHaveLength(0);
        expect(again.headers.get("etag")).toBe(etag);
        // What a cache needs to keep using its copy, as on the 200.
        expect(again.headers.get("cache-control")).toBe(first.headers.get("cache-control"));
        expect(again.headers.get("vary")).toBe(first.headers.get("vary"));
      }
      const stale = await call(`/reports/${api.LATEST}${query}`, {
        headers: { "if-none-match": '"0000000000"' },
      });
      expect(stale.status).toBe(200);
      expect(stale.bytes).toEqual(first.bytes);
    });

    it("gives JSON and CSV different ETags, and latest the same as its date", async () => {
      const json = (await call(`/reports/${api.LATEST}`)).headers.get("etag");
      const csv = (await call(`/reports/${api.LATEST}?format=csv`)).headers.get("etag");
      const latest = (await call("/reports/latest")).headers.get("etag");
      expect(json).not.toBe(csv);
      expect(latest).toBe(json);
    });
  });
});
