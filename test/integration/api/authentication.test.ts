import { describe, expect, it } from "vitest";
import { call, expectErrorBody } from "../../helpers/api-client.js";
import * as api from "../../helpers/api-fixture.js";

/**
 * Who may call the report API, and the headers every answer carries.
 * Set-up and client: test/helpers/api-fixture.ts and api-client.ts.
 */

api.useApiFixture({ errorsLogged: true });

describe.each(api.STORE_KINDS)("the report API over %s", (kind) => {
  api.useFilledStore(kind);

  describe("authentication", () => {
    const routes: [string, string, string?][] = [
      ["GET", "/reports"],
      ["GET", "/reports?limit=1"],
      ["GET", "/reports/latest"],
      ["GET", `/reports/${api.LATEST}`],
      ["GET", `/reports/${api.LATEST}?format=csv`],
      ["GET", `/reports/${api.LATEST}?format=html`],
      ["GET", "/reports/2026-02-30"],
      ["GET", `/reports/${api.LATEST}/files/usage.csv`],
      ["GET", `/reports/${api.LATEST}/files/secret.txt`],
      ["POST", "/reports", '{"date":"2026-11-20"}'],
    ];
    const badAuthorization: [string, string | undefined][] = [
      ["no Authorization header", undefined],
      ["a wrong token", `Bearer wrong-${api.API_TOKEN}`],
      ["the token with a character missing", `Bearer ${api.API_TOKEN.slice(0, -1)}`],
      ["the token without the Bearer scheme", api.API_TOKEN],
      ["Basic credentials", `Basic ${Buffer.from(`user:${api.API_TOKEN}`).toString("base64")}`],
      ["another scheme", `Token ${api.API_TOKEN}`],
      ["Bearer without a token", "Bearer"],
      ["two tokens", `Bearer ${api.API_TOKEN} ${api.API_TOKEN}`],
      ["the token twice, comma-joined", `Bearer ${api.API_TOKEN}, Bearer ${api.API_TOKEN}`],
      ["an empty header", ""],
    ];

    it.each(routes)("refuses %s %s without the right bearer token", async (method, path, body) => {
      const listingsBefore = api.sim.requests.listing;
      for (const [label, authorization] of badAuthorization) {
        const answer = await call(path, {
          method,
          token: null,
          headers: {
            ...(authorization === undefined ? {} : { authorization }),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body }),
        });
        expect(answer.status, label).toBe(401);
        expect(answer.headers.get("www-authenticate"), label).toBe("Bearer");
        expect(answer.headers.get("content-type"), label).toMatch(/^application\/json/);
        expectErrorBody(answer.text, "unauthorized");
      }
      expect(api.sim.requests.listing, "no job ran").toBe(listingsBefore);
    });

    it("accepts the token when REPORT_API_TOKEN ends in a newline, as one read from a file does", async () => {
      await api.useToken(`${api.API_TOKEN}\n`);
      expect((await call("/reports")).status).toBe(200);
      expect((await call("/reports", { token: "wrong" })).status).toBe(401);
    });

    it("accepts the Bearer scheme in any case", async () => {
      const answer = await call("/reports", {
        token: null,
        headers: { authorization: `bEaReR ${api.API_TOKEN}` },
      });
      expect(answer.status).toBe(200);
    });

    it.each([
      ["empty", ""],
      ["unset", undefined],
    ])(
      "answers 500 not_configured when REPORT_API_TOKEN is %s and no secret is named",
      async (_label, value) => {
        await api.useToken(value);
        await api.configure({ MODELARTS_TOKEN: api.UPSTREAM_TOKEN });
        for (const token of [api.API_TOKEN, null, ""]) {
          const answer = await call("/reports", { token });
          expect(answer.status).toBe(500);
          const error = expectErrorBody(answer.text, "not_configured");
          expect(error.message).not.toMatch(/REPORT_API_TOKEN_SECRET|arn:/);
        }
      },
    );
  });

  describe("security headers and error bodies", () => {
    it("sets the security headers on successes, redirects, 304s and errors", async () => {
      const etag = (await call(`/reports/${api.LATEST}`)).headers.get("etag") ?? "";
      const answers = [
        await call("/reports"),
        await call(`/reports/${api.LATEST}?format=csv`),
        await call(`/reports/${api.LATEST}/files/usage.csv`),
        await call(`/reports/${api.LATEST}`, { headers: { "if-none-match": etag } }),
        await call("/reports", { token: null }),
        await call("/reports/2026-02-30"),
        await call("/reports/2026-11-01"),
        await call("/reports", { method: "POST", body: "x" }),
      ];
      for (const answer of answers) {
        const label = `${answer.status}`;
        expect(answer.headers.get("x-content-type-options"), label).toBe("nosniff");
        expect(answer.headers.get("referrer-policy"), label).toBe("no-referrer");
        expect(answer.headers.get("strict-transport-security"), label).toMatch(/^max-age=\d+/);
        expect(answer.headers.get("x-powered-by"), label).toBeNull();
      }
      expect(answers.map((a) => a.status)).toEqual([
        200,
        200,
        kind === "S3" ? 302 : 200,
        304,
        401,
        400,
        404,
        415,
      ]);
    });

    it("adds the page-only headers to the HTML page", async () => {
      const answer = await call(`/reports/${api.LATEST}?format=html`);
      expect(answer.headers.get("x-frame-options")).toBe("DENY");
      const csp = answer.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("style-src 'unsafe-inline'");
      expect(csp).not.toMatch(/script-src[^;]*(unsafe|\*|http)/);
    });
  });
});
