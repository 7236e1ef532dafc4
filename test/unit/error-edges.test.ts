import { Writable } from "node:stream";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { toHttp } from "../../src/api/http.js";
import { LinkRefusedError, LinkRequestError } from "../../src/api/links.js";
import { exitCodeOf, fail } from "../../src/cli/main.js";
import { jsonErrors } from "../../src/handlers/middleware.js";
import { DateSelectionError, selectDates } from "../../src/report/select-dates.js";
import { StoredReportError } from "../../src/report/stored-schema.js";
import {
  ConfigError,
  IncompleteScanError,
  RequestError,
  StorageError,
  UpstreamError,
} from "../../src/shared/errors.js";
import { RegenerationPendingError } from "../../src/storage/regenerations.js";
import { apiGatewayEvent, lambdaContext } from "../helpers/apigw.js";

const NOW = Date.UTC(2026, 11, 2, 0, 30);

function logged() {
  const lines: [string, Record<string, unknown>][] = [];
  return { lines, log: { error: (m: string, e: Record<string, unknown>) => lines.push([m, e]) } };
}

const body = (response: { body: string }) => JSON.parse(response.body) as unknown;

describe("toHttp: the one mapping of errors to HTTP answers", () => {
  it.each([
    [new RequestError("limit must be…", { code: "invalid_limit" }), 400, "invalid_limit"],
    [new RequestError("no report yet", { code: "no_report" }), 404, "no_report"],
    [new RequestError("too big", { code: "body_too_large" }), 413, "body_too_large"],
    [
      new RequestError("json only", { code: "unsupported_media_type" }),
      415,
      "unsupported_media_type",
    ],
    [new LinkRequestError("ttl must be at most 30 days", { problem: "ttl" }), 400, "invalid_body"],
    [new DateSelectionError("from is after to", { problem: "invalid_range" }), 400, "invalid_body"],
    [
      new DateSelectionError("2026-12-02 has not ended", { problem: "invalid_date" }),
      400,
      "invalid_date",
    ],
  ])("answers %s with %i %s and its message, and logs nothing", (error, status, code) => {
    const { lines, log } = logged();
    const answer = toHttp(error, { log });
    expect(answer.status).toBe(status);
    expect(body(answer)).toEqual({ error: { code, message: error.message } });
    expect(lines).toEqual([]);
  });

  it("asks for the token with 401 and WWW-Authenticate", () => {
    const answer = toHttp(new RequestError("the token is not valid", { code: "unauthorized" }), {
      log: logged().log,
    });
    expect(answer).toMatchObject({ status: 401, headers: { "www-authenticate": "Bearer" } });
  });

  it("lists the pending regenerations with 409, without their ids", () => {
    const pending = [
      { id: "secret-id", from: "2026-11-01", to: "2026-11-02", accepted_at: "a", expires_at: "b" },
    ];
    const answer = toHttp(new RegenerationPendingError(pending), { log: logged().log });
    expect(answer.status).toBe(409);
    expect(JSON.stringify(body(answer))).not.toContain("secret-id");
    expect(body(answer)).toMatchObject({
      error: { code: "regeneration_pending", pending: [{ from: "2026-11-01", to: "2026-11-02" }] },
    });
  });

  it("shows a refused link to a browser as a page, and to a script as JSON", () => {
    const refused = new LinkRefusedError("link_expired");
    const page = toHttp(refused, { accept: "text/html,*/*;q=0.8", log: logged().log });
    expect(page.status).toBe(403);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain("link_expired");
    const json = toHttp(refused, { accept: "application/json", log: logged().log });
    expect(body(json)).toEqual({ error: { code: "link_expired", message: refused.message } });
  });

  it("hides the service's own failures behind a generic 5xx, and logs what to fix", () => {
    const { lines, log } = logged();
    const config = toHttp(new ConfigError("REPORT_STATE_MACHINE_ARN is required"), { log });
    expect(config.status).toBe(500);
    expect(config.body).not.toContain("REPORT_STATE_MACHINE_ARN");
    expect(body(config)).toMatchObject({ error: { code: "not_configured" } });
    const stored = toHttp(new StoredReportError("daily/x/report.json", "totals: bad"), { log });
    expect([stored.status, body(stored)]).toMatchObject([
      502,
      { error: { code: "invalid_stored_report" } },
    ]);
    const crash = toHttp(new TypeError("x is undefined"), { log });
    expect([crash.status, crash.body]).toEqual([
      500,
      `${JSON.stringify({ error: { code: "internal_error", message: "the request could not be completed" } })}\n`,
    ]);
    expect(lines.map(([m]) => m)).toEqual([
      "the function is not configured correctly",
      "the stored daily/x/report.json is not a valid report: totals: bad",
      "request failed",
    ]);
  });

  it("answers a date error that reaches the edge with 400, not 500 not_configured", async () => {
    // Before: DateSelectionError was a ConfigError, so the handlers' error middleware said 500.
    const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(jsonErrors())
      .handler(async () => {
        selectDates(
          { date: "2026-12-02" },
          { now: NOW, timeZone: "UTC", maxDays: 31, defaultYesterday: false },
        );
        return { statusCode: 200 };
      });
    const answer = await handler(apiGatewayEvent({ url: "/reports/latest" }), lambdaContext());
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body ?? "")).toMatchObject({
      error: { code: "invalid_date", message: expect.stringMatching(/has not ended yet in UTC/) },
    });
  });
});

describe("exitCodeOf: the one mapping of errors to exit codes", () => {
  it.each([
    [new ConfigError("REPORT_TIMEZONE is wrong"), 2],
    [new DateSelectionError("--date is not a date", { problem: "invalid_date" }), 2],
    [new LinkRequestError("path must be …", { problem: "path" }), 2],
    [new UpstreamError("HTTP 503", { retryable: true }), 1],
    [new IncompleteScanError("fewer versions than total_count"), 1],
    [new StorageError("could not write"), 1],
    [new Error("a bug"), 1],
    ["a string", 1],
  ])("gives %s exit code %i", (error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });

  it("ends a command with one error line that says what failed and why", () => {
    const chunks: string[] = [];
    const stderr = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString("utf8"));
        done();
      },
    });
    const io = {
      stderr: stderr as NodeJS.WriteStream,
      stdout: process.stdout,
      env: {},
      now: () => NOW,
      cwd: ".",
    };
    const cause = new UpstreamError("HTTP 503", { retryable: true });
    expect(
      fail(io, new StorageError("the run failed", { cause }), { failed: "the report run failed" }),
    ).toBe(1);
    expect(
      fail(io, new ConfigError("--ttl is wrong"), { failed: "x", usage: "usage: npm run link" }),
    ).toBe(2);
    expect(fail(io, new ConfigError("usage: npm run verify"), { usage: "usage: again" })).toBe(2);
    expect(fail(io, new RangeError("Invalid time value"))).toBe(1);
    expect(chunks.join("")).toBe(
      [
        "error: the report run failed: the run failed",
        "error: --ttl is wrong. usage: npm run link",
        "error: usage: npm run verify",
        "error: unexpected error: Invalid time value",
        "",
      ].join("\n"),
    );
  });
});
