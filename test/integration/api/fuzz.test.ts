import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectErrorBody, rawRequest } from "../../helpers/api-client.js";
import * as api from "../../helpers/api-fixture.js";
import { matchRoute } from "../../helpers/apigw.js";

/**
 * Fuzzed requests: never a 5xx, always the token, never a file outside the root.
 * Set-up and client: test/helpers/api-fixture.ts and api-client.ts.
 */

api.useApiFixture({ errorsLogged: false });

describe.each(api.STORE_KINDS)("the report API over %s", (kind) => {
  api.useFilledStore(kind);

  describe("fuzzed requests", () => {
    const segment = fc.oneof(
      fc.constantFrom(
        "reports",
        "latest",
        "files",
        ...api.DATES,
        "2026-11-01",
        "2026-02-30",
        ...api.FILES,
        "latest.json",
        "outside-secret.txt",
        "daily",
        "..",
        ".",
        "%2e%2e",
        "%2E%2E%2F",
        "..%2F..%2Foutside-secret.txt",
        "..%2F..%2F..%2Foutside-secret.txt",
        "..%2f..%2flatest.json",
        "..%5C..%5Coutside-secret.txt",
        "report.json%00",
        "%00",
        "%",
        "%zz",
        "%E0%A4%A",
        "%C0%AE%C0%AE",
        "~",
        "",
      ),
      fc.string({ unit: "grapheme", maxLength: 10 }).map(encodeURIComponent),
      fc.stringMatching(/^[!-~]{0,10}$/),
    );
    // Weighted towards the routes with a real date, where a bad name would reach storage.
    const date = fc.oneof(
      { arbitrary: fc.constantFrom(...api.DATES, "latest"), weight: 3 },
      { arbitrary: segment, weight: 2 },
    );
    const path = fc.oneof(
      fc.constant("/reports"),
      { arbitrary: date.map((d) => `/reports/${d}`), weight: 2 },
      { arbitrary: fc.tuple(date, segment).map(([d, n]) => `/reports/${d}/files/${n}`), weight: 4 },
      fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join("/")}`),
      fc.array(segment, { maxLength: 5 }).map((s) => `/reports/${s.join("/")}`),
    );
    const queryValue = fc.oneof(
      fc.constantFrom("0", "1", "2", "100", "101", "abc", "-1", "csv", "html", "xml", "json", ""),
      fc
        .constantFrom(...api.DATES, "2026-02-30", "..%2F..", "\0")
        .map((d) => Buffer.from(d).toString("base64url")),
      fc.string({ unit: "grapheme", maxLength: 12 }),
    );
    const query = fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom("limit", "cursor", "format", "__proto__", "constructor", "x"),
            fc.string({ maxLength: 6 }),
          ),
          queryValue,
        ),
        { maxLength: 4 },
      )
      .map((pairs) =>
        pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"),
      );
    const headerValue = fc.oneof(
      fc.constantFrom(
        "text/html",
        "application/json",
        "*/*",
        '"x"',
        "*",
        "W/",
        "text/csv, text/html;q=0.1",
        "a=b; c=d",
        "",
      ),
      // Printable ASCII: what an HTTP client may put in a header value.
      fc.stringMatching(/^[ -~]{0,30}$/),
    );
    const forbidden = new Set([
      "authorization",
      "host",
      "content-length",
      "transfer-encoding",
      "connection",
      "expect",
      "upgrade",
      "te",
      "trailer",
      "keep-alive",
    ]);
    const headers = fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            "accept",
            "if-none-match",
            "content-type",
            "cookie",
            "x-forwarded-for",
            "__proto__",
            "constructor",
          ),
          fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/),
        ),
        headerValue,
      ),
      { maxLength: 5 },
    );
    const auth = fc.constantFrom(
      { kind: "valid", header: `Bearer ${api.API_TOKEN}` },
      { kind: "valid", header: `Bearer ${api.API_TOKEN}` },
      { kind: "valid", header: `Bearer ${api.API_TOKEN}` },
      { kind: "valid", header: `Bearer ${api.API_TOKEN}` },
      { kind: "valid", header: `bearer   ${api.API_TOKEN}  ` },
      { kind: "none", header: undefined },
      { kind: "wrong", header: `Bearer ${api.API_TOKEN}x` },
      { kind: "wrong", header: `Bearer ${api.API_TOKEN.toUpperCase()}` },
      { kind: "malformed", header: `Basic ${api.API_TOKEN}` },
      { kind: "malformed", header: api.API_TOKEN },
      { kind: "malformed", header: "Bearer" },
    );
    // Never a body that could be a valid regeneration: a fuzzed 202 would start a real job.
    // Often none at all, as a POST without a body sends.
    const body = fc.option(
      fc
        .oneof(fc.string({ maxLength: 40 }), fc.json({ maxDepth: 2 }))
        .filter((b) => !/"(date|from|to)"/.test(b)),
      { nil: undefined, freq: 3 },
    );
    // Content types a POST may carry, JSON ones often, so the body parser is reached.
    const contentType = fc.option(
      fc.oneof(
        fc.constantFrom(
          "application/json",
          "application/json; charset=utf-8",
          "APPLICATION/JSON",
          "application/merge-patch+json",
          "application/json;",
          "application/jsonp",
          "text/plain",
          "multipart/form-data; boundary=x",
          "application/x-www-form-urlencoded",
          "",
        ),
        fc.stringMatching(/^[ -~]{0,20}$/),
      ),
      { nil: undefined },
    );

    it("never fails with 5xx, always asks for the token, and never shows a file outside the root", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("GET", "GET", "GET", "POST", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"),
          path,
          query,
          headers,
          auth,
          body,
          contentType,
          async (method, p, q, hs, a, b, type) => {
            const target = q === "" ? p : `${p}?${q}`;
            const sent: [string, string][] = hs.filter(
              ([name]) => !forbidden.has(name) && (type === undefined || name !== "content-type"),
            );
            if (type !== undefined) sent.push(["content-type", type]);
            if (a.header !== undefined) sent.push(["authorization", a.header]);
            const answer = await rawRequest(target, {
              method,
              headers: sent,
              ...(b !== undefined && method !== "GET" && method !== "OPTIONS" ? { body: b } : {}),
            });
            const rawPath = target.split("?", 1)[0] ?? "";
            const route = matchRoute(method, rawPath);
            expect(answer.status).toBeLessThan(500);
            if (a.kind !== "valid") expect(answer.status).toBe(route === undefined ? 404 : 401);
            if (answer.status >= 400) expectErrorBody(answer.text);
            expect(answer.text).not.toContain(api.SECRET);
            if (answer.status === 302) {
              const location = new URL(answer.headers.location ?? "");
              expect(location.pathname).toMatch(
                new RegExp(
                  `^/${api.BUCKET}/root/daily/\\d{4}-\\d{2}-\\d{2}/(report\\.json|usage\\.csv|jobs\\.csv)$`,
                ),
              );
            }
          },
        ),
        // API_FUZZ_RUNS=2000 for a longer run by hand.
        { numRuns: Number(process.env.API_FUZZ_RUNS ?? 300) },
      );
    }, 600_000);
  });
});
