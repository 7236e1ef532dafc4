import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ReportStore } from "../../../src/storage/store.js";
import {
  call,
  expectError,
  expectErrorBody,
  jsonPost,
  rawRequest,
} from "../../helpers/api-client.js";
import * as api from "../../helpers/api-fixture.js";
import { startApiServer } from "../../helpers/api-server.js";
import { apiGatewayEvent, lambdaContext } from "../../helpers/apigw.js";
import type { Handlers } from "../../helpers/handlers.js";

/**
 * Regenerating reports with POST /reports on the local stage.
 * Set-up and client: test/helpers/api-fixture.ts and api-client.ts.
 */

api.useApiFixture({ errorsLogged: true });

describe.each(api.STORE_KINDS)("the report API over %s", (kind) => {
  api.useFilledStore(kind);

  describe("POST /reports (regeneration in this process)", () => {
    let target: ReportStore;

    let handlers: Handlers;

    beforeEach(async () => {
      const fresh = api.subject(kind).fresh();
      target = fresh.store;
      // The local stage: no report function to hand the dates to, so the job runs here.
      handlers = await api.configure({
        REPORT_STATE_MACHINE_ARN: undefined,
        AWS_LAMBDA_FUNCTION_NAME: undefined,
        MODELARTS_ENDPOINT: api.sim.url,
        MODELARTS_PROJECT_ID: api.PROJECT,
        MODELARTS_TOKEN: api.UPSTREAM_TOKEN,
        REPORT_TIMEZONE: "UTC",
        REPORT_STORAGE: fresh.url,
      });
    });

    /**
     * Whether a regeneration of `date` (any, without one) is pending, other than the stand-ins
     * for deployed runs that a test plants (`queued-…`), which never end.
     */
    async function isPending(date?: string): Promise<boolean> {
      // s3rver resets a GET of an object that is being replaced: that is "ask again".
      const queue = await target.get("regenerations.json").catch(() => null);
      if (queue === null) return true;
      if (queue === undefined) return false;
      const pending: { id: string; from: string; to: string }[] = JSON.parse(
        queue.body.toString(),
      ).pending;
      return pending.some(
        (p) =>
          !p.id.startsWith("queued-") && (date === undefined || (p.from <= date && date <= p.to)),
      );
    }

    /** Until the background jobs of this stage have ended (nothing pending any more). */
    async function settled(date?: string): Promise<void> {
      const deadline = Date.now() + 45_000;
      while (await isPending(date)) {
        if (Date.now() > deadline) throw new Error("a regeneration stayed pending");
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    // The local stage answers 202 before its job has run: no job may outlive its test.
    afterEach(() => settled());

    async function expectFiles(dates: readonly string[]): Promise<void> {
      await settled();
      expect(await target.listFolders("daily")).toEqual([...dates]);
      for (const date of dates) {
        for (const name of api.FILES) {
          expect(await target.get(`daily/${date}/${name}`), `${date}/${name}`).toBeDefined();
        }
      }
    }

    it("regenerates one date and answers 202 with it", async () => {
      const answer = await jsonPost('{"date":"2026-11-20"}');
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.text)).toEqual({ dates: ["2026-11-20"] });
      await expectFiles(["2026-11-20"]);
      const report = JSON.parse(
        (await api.stored(target, "daily/2026-11-20/report.json")).toString(),
      );
      expect(report).toMatchObject({
        report_date: "2026-11-20",
        source: { project_id: api.PROJECT },
      });
      // The API reads what it wrote.
      expect((await call("/reports/latest")).text).toBe(
        (await api.stored(target, "daily/2026-11-20/report.json")).toString(),
      );
    });

    it("regenerates a range with both ends counted", async () => {
      const answer = await jsonPost('{"from":"2026-11-18","to":"2026-11-20"}');
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.text)).toEqual({
        dates: ["2026-11-18", "2026-11-19", "2026-11-20"],
      });
      await expectFiles(["2026-11-18", "2026-11-19", "2026-11-20"]);
    });

    it("accepts, then logs the failure and writes nothing when the upstream fails", async () => {
      vi.stubEnv("MODELARTS_MAX_ATTEMPTS", "1");
      api.sim.queueFaults({ kind: "status", status: 500, errorCode: "ModelArts.0001" });
      const answer = await jsonPost('{"date":"2026-11-20"}');
      // As deployed: the job runs after the answer, so its failure is the log's, not the client's.
      expect(answer.status).toBe(202);
      expect(answer.text).not.toContain(api.sim.url);
      await settled();
      expect(api.logLines.join("")).toContain('"message":"regeneration failed"');
      expect(await target.get("latest.json")).toBeUndefined();
      expect(await target.get("daily/2026-11-20/report.json")).toBeUndefined();
    });

    it("accepts a range of exactly 31 dates", async () => {
      const answer = await jsonPost('{"from":"2026-10-01","to":"2026-10-31"}');
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.text).dates).toHaveLength(31);
    });

    it.each([
      ["a date that does not exist", '{"date":"2026-02-30"}'],
      ["a date without leading zeros", '{"date":"2026-1-1"}'],
      ["a date far in the future", '{"date":"2099-01-01"}'],
      ["today, which has not ended", `{"date":"${new Date().toISOString().slice(0, 10)}"}`],
      ["a range that ends in the future", '{"from":"2026-11-20","to":"2099-01-01"}'],
      ["year 0, before the 2000-01-01 floor", '{"date":"0000-01-01"}'],
      ["a range that starts before 2000", '{"from":"1999-12-31","to":"2000-01-01"}'],
      ["a month before 2000", '{"month":"1999-12"}'],
    ])("answers 400 invalid_date for %s and runs nothing", async (_label, body) => {
      const listingsBefore = api.sim.requests.listing;
      await expectError(jsonPost(body), 400, "invalid_date");
      expect(api.sim.requests.listing).toBe(listingsBefore);
      expect(await target.listFolders("daily")).toEqual([]);
      expect(await target.get("latest.json")).toBeUndefined();
    });

    it.each([
      ["a date that is a number", '{"date":20261120}'],
      ["from after to", '{"from":"2026-11-20","to":"2026-11-18"}'],
      ["both forms at once", '{"date":"2026-11-20","from":"2026-11-18","to":"2026-11-20"}'],
      ["date with only from", '{"date":"2026-11-20","from":"2026-11-18"}'],
      ["an unknown field", '{"date":"2026-11-20","force":true}'],
      ["only an unknown field", '{"dates":["2026-11-20"]}'],
      ["from without to", '{"from":"2026-11-18"}'],
      ["an empty object", "{}"],
      ["a 32-day range", '{"from":"2026-10-01","to":"2026-11-01"}'],
      ["a range across years over 31 days", '{"from":"2025-12-01","to":"2026-01-05"}'],
      ["an array", '["2026-11-20"]'],
      ["null", "null"],
      ["a string", '"2026-11-20"'],
      ["a number", "20261120"],
      ["__proto__ as a field", '{"__proto__":{"date":"2026-11-20"}}'],
    ])("answers 400 invalid_body for %s and runs nothing", async (_label, body) => {
      const listingsBefore = api.sim.requests.listing;
      await expectError(jsonPost(body), 400, "invalid_body");
      expect(api.sim.requests.listing).toBe(listingsBefore);
      expect(await target.listFolders("daily")).toEqual([]);
    });

    it.each([
      ["text/plain", { "content-type": "text/plain" }],
      ["form data", { "content-type": "application/x-www-form-urlencoded" }],
      ["a type that only starts like JSON", { "content-type": "application/jsonp" }],
    ])("answers 415 for %s", async (_label, headers) => {
      const answer = await call("/reports", {
        method: "POST",
        body: '{"date":"2026-11-20"}',
        headers,
      });
      expect(answer.status).toBe(415);
      expectErrorBody(answer.text, "unsupported_media_type");
    });

    it("answers 415 for a body without a content type", async () => {
      // fetch would label a string body text/plain; this request carries no Content-Type.
      const answer = await rawRequest("/reports", {
        method: "POST",
        headers: [["authorization", `Bearer ${api.API_TOKEN}`]],
        body: '{"date":"2026-11-20"}',
      });
      expect(answer.status).toBe(415);
      expectErrorBody(answer.text, "unsupported_media_type");
    });

    it("accepts a +json media type", async () => {
      const answer = await call("/reports", {
        method: "POST",
        body: '{"date":"2026-11-21"}',
        headers: { "content-type": "application/vnd.report+json" },
      });
      expect(answer.status).toBe(202);
    });

    it.each(['{"date":', "", "{'date':'2026-11-20'}", '{"date":"2026-11-20"} x'])(
      "answers 400 invalid_json for the body %j",
      async (body) => {
        await expectError(jsonPost(body), 400, "invalid_json");
      },
    );

    it("answers 400 invalid_json, not 500, for a JSON content type with no body at all", async () => {
      const answer = await rawRequest("/reports", {
        method: "POST",
        headers: [
          ["authorization", `Bearer ${api.API_TOKEN}`],
          ["content-type", "application/json"],
        ],
      });
      expect(answer.status).toBe(400);
      expectErrorBody(answer.text, "invalid_json");
      const event = apiGatewayEvent({
        method: "POST",
        url: "/reports",
        headers: { ...api.authHeader, "content-type": "application/json" },
      });
      expect(event.body).toBeUndefined();
      const result = await handlers.routes["POST /reports"](event, lambdaContext());
      expect(result.statusCode).toBe(400);
      expectErrorBody(result.body ?? "", "invalid_json");
    });

    it("answers 409 with what is pending while an overlapping regeneration is queued", async () => {
      // What a queued deployed run looks like: its entry in the regeneration queue.
      const queued = {
        pending: [
          {
            id: "queued-1",
            from: "2026-11-19",
            to: "2026-11-21",
            accepted_at: new Date().toISOString(),
            expires_at: new Date(Date.now() + 600_000).toISOString(),
          },
        ],
      };
      await target.put("regenerations.json", JSON.stringify(queued), "application/json");
      const listingsBefore = api.sim.requests.listing;
      const refused = await expectError(
        jsonPost('{"date":"2026-11-20"}'),
        409,
        "regeneration_pending",
      );
      expect(refused).toMatchObject({
        pending: [
          { from: "2026-11-19", to: "2026-11-21", expires_at: queued.pending[0]?.expires_at },
        ],
      });
      await expectError(
        jsonPost('{"from":"2026-11-10","to":"2026-11-19"}'),
        409,
        "regeneration_pending",
      );
      expect(api.sim.requests.listing).toBe(listingsBefore);
      // Dates that do not overlap go ahead, and leave nothing pending behind them.
      expect((await jsonPost('{"date":"2026-11-22"}')).status).toBe(202);
      await settled("2026-11-22");
      const after = JSON.parse((await api.stored(target, "regenerations.json")).toString());
      expect(after.pending.map((p: { id: string }) => p.id)).toEqual(["queued-1"]);
    });

    it("forgets a pending regeneration once it has expired", async () => {
      const expired = {
        pending: [
          {
            id: "old",
            from: "2026-11-20",
            to: "2026-11-20",
            accepted_at: "2026-11-01T00:00:00.000Z",
            expires_at: "2026-11-01T01:00:00.000Z",
          },
        ],
      };
      await target.put("regenerations.json", JSON.stringify(expired), "application/json");
      expect((await jsonPost('{"date":"2026-11-20"}')).status).toBe(202);
      await settled();
      const after = JSON.parse((await api.stored(target, "regenerations.json")).toString());
      expect(after.pending).toEqual([]);
    });

    it("answers 413 for a body over 16 KiB", async () => {
      const body = JSON.stringify({ date: "2026-11-20", pad: "x".repeat(16 * 1024) });
      const listingsBefore = api.sim.requests.listing;
      await expectError(jsonPost(body), 413, "body_too_large");
      expect(api.sim.requests.listing).toBe(listingsBefore);
    });

    it("reads a base64-encoded body, over HTTP and as a raw event", async () => {
      const base64Server = await startApiServer(handlers.routes, { base64Bodies: true });
      try {
        const answer = await jsonPost('{"date":"2026-11-22"}', { base: base64Server.url });
        expect(answer.status).toBe(202);
        expect(base64Server.events.at(-1)?.isBase64Encoded).toBe(true);
      } finally {
        await base64Server.close();
      }
      const event = apiGatewayEvent({
        method: "POST",
        url: "/reports",
        headers: { ...api.authHeader, "content-type": "application/json" },
        body: '{"from":"2026-11-23","to":"2026-11-24"}',
        base64: true,
      });
      expect(event.body).toBe(
        Buffer.from('{"from":"2026-11-23","to":"2026-11-24"}').toString("base64"),
      );
      const result = await handlers.routes["POST /reports"](event, lambdaContext());
      expect(result.statusCode).toBe(202);
      expect(JSON.parse(result.body ?? "")).toEqual({ dates: ["2026-11-23", "2026-11-24"] });
      await expectFiles(["2026-11-22", "2026-11-23", "2026-11-24"]);
    });
  });
});
