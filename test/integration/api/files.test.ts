import { describe, expect, it } from "vitest";
import { call, expectError, expectErrorBody, rawRequest } from "../../helpers/api-client.js";
import * as api from "../../helpers/api-fixture.js";
import { apiGatewayEvent, lambdaContext } from "../../helpers/apigw.js";

/**
 * Downloading a date's files, and nothing outside the report root.
 * Set-up and client: test/helpers/api-fixture.ts and api-client.ts.
 */

api.useApiFixture({ errorsLogged: false });

describe.each(api.STORE_KINDS)("the report API over %s", (kind) => {
  api.useFilledStore(kind);

  describe("GET /reports/{date}/files/{name}", () => {
    it.each([...api.FILES, "manifest.json"])("hands out %s for download", async (name) => {
      const expected = await api.stored(api.subject(kind).filled, `daily/${api.LATEST}/${name}`);
      const answer = await call(`/reports/${api.LATEST}/files/${name}`);
      let download: { headers: Headers; bytes: Buffer };
      if (kind === "S3") {
        expect(answer.status).toBe(302);
        const location = answer.headers.get("location") ?? "";
        const url = new URL(location);
        expect(url.origin).toBe(api.s3.endpoint);
        expect(url.pathname).toBe(`/${api.BUCKET}/root/daily/${api.LATEST}/${name}`);
        expect(url.searchParams.get("X-Amz-Expires")).toBe("300");
        expect(answer.headers.get("cache-control")).toBe("private, no-store");
        // The presigned URL needs no bearer token: it is the credential.
        const res = await fetch(location);
        expect(res.status).toBe(200);
        download = { headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
      } else {
        expect(answer.status).toBe(200);
        download = answer;
      }
      expect(download.headers.get("content-disposition")).toBe(
        `attachment; filename="${api.LATEST}-${name}"`,
      );
      expect(download.bytes).toEqual(expected);
    });

    it.each([
      "secret.txt",
      "outside-secret.txt",
      "..%2F..%2Flatest.json",
      "..%2F..%2F..%2Foutside-secret.txt",
      "..%5C..%5Clatest.json",
      "report.json%00",
      "report.json%00.txt",
      "REPORT.JSON",
      "%2e%2e",
      "latest.json",
      "report.json%2F..",
    ])("answers 404 for the file name %s and shows nothing outside the date", async (name) => {
      const answer = await call(`/reports/${api.LATEST}/files/${name}`);
      expect(answer.status).toBe(404);
      expectErrorBody(answer.text, "not_found");
      expect(answer.headers.get("location")).toBeNull();
      expect(answer.text).not.toContain(api.SECRET);
    });

    it.each(["../latest.json", "../../outside-secret.txt", "../../../outside-secret.txt"])(
      "answers 404 when API Gateway passes the name %s decoded",
      async (name) => {
        const event = apiGatewayEvent({
          url: `/reports/${api.LATEST}/files/${encodeURIComponent(name)}`,
          headers: api.authHeader,
          route: {
            routeKey: "GET /reports/{date}/files/{name}",
            pathParameters: { date: api.LATEST, name },
          },
        });
        const result = await api.fileRoute(event, lambdaContext());
        expect(result.statusCode).toBe(404);
        expect(result.body).not.toContain(api.SECRET);
        expectErrorBody(result.body ?? "", "not_found");
      },
    );

    it("never reaches outside the root through a date made of dots and slashes", async () => {
      for (const date of ["..", "../..", "..%2F..", "%2e%2e"]) {
        const answer = await call(`/reports/${date}/files/report.json`);
        expect(answer.status, date).toBeGreaterThanOrEqual(400);
        expect(answer.status, date).toBeLessThan(500);
        expect(answer.text).not.toContain(api.SECRET);
      }
      const event = apiGatewayEvent({
        url: "/reports/x/files/outside-secret.txt",
        headers: api.authHeader,
        route: {
          routeKey: "GET /reports/{date}/files/{name}",
          pathParameters: { date: "../..", name: "outside-secret.txt" },
        },
      });
      const result = await api.fileRoute(event, lambdaContext());
      expect(result.statusCode).toBe(400);
      expect(result.body).not.toContain(api.SECRET);
    });

    it("answers 404 for an unencoded ../ sent as it is", async () => {
      const answer = await rawRequest(`/reports/${api.LATEST}/files/../latest.json`, {
        headers: [["authorization", `Bearer ${api.API_TOKEN}`]],
      });
      expect(answer.status).toBe(404);
      expect(answer.text).not.toContain(api.SECRET);
      expectErrorBody(answer.text);
    });

    it("answers 404 for a date without a report and 400 for a malformed date", async () => {
      await expectError(call("/reports/2026-11-01/files/usage.csv"), 404, "not_found");
      await expectError(call("/reports/2026-02-30/files/usage.csv"), 400, "invalid_date");
      await expectError(call("/reports/latest/files/usage.csv"), 400, "invalid_date");
    });
  });
});
