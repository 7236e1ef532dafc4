import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderReportJson } from "../../../src/report/render-json.js";
import { FileStore } from "../../../src/storage/file-store.js";
import { call, expectErrorBody } from "../../helpers/api-client.js";
import * as api from "../../helpers/api-fixture.js";
import { makeReport } from "../../helpers/report-fixture.js";

/**
 * The report API over a store holding files that are not reports.
 * Set-up and client: test/helpers/api-fixture.ts and api-client.ts.
 */

api.useApiFixture({ errorsLogged: true });

describe("the report API over a damaged store", () => {
  let damaged: FileStore;
  let damagedRoot: string;

  beforeAll(async () => {
    damagedRoot = join(api.dir, "damaged");
    damaged = new FileStore(damagedRoot);
    await damaged.put("latest.json", `not json ${api.SECRET}`, "application/json");
    await damaged.put(
      `daily/${api.LATEST}/report.json`,
      `{"broken": "${api.SECRET}"`,
      "application/json",
    );
  });

  beforeEach(async () => {
    await api.configure({
      REPORT_STORAGE: `file://${damagedRoot}`,
      REPORT_API_TOKEN: api.API_TOKEN,
    });
  });

  it("lists the other days and skips (and logs) a report.json that cannot be read", async () => {
    await damaged.put(
      "daily/2026-11-26/report.json",
      renderReportJson(makeReport({ label: "2026-11-26", generated_at: "g" })),
      "application/json",
    );
    await damaged.put("daily/2026-11-25/report.json", '{"schema_version": 2}', "application/json");
    // The head of a report and no more: not a report.
    await damaged.put(
      "daily/2026-11-24/report.json",
      JSON.stringify({ schema_version: 1, report_date: "2026-11-24", generated_at: "g" }),
      "application/json",
    );
    const answer = await call("/reports");
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      reports: [{ report_date: "2026-11-26", generated_at: "g" }],
      next_cursor: null,
    });
    expect(answer.text).not.toContain(api.SECRET);
    const log = api.logLines.join("");
    expect(log).toContain("skipped a stored report.json that cannot be read");
    expect(log).toContain(`daily/${api.LATEST}/report.json`);
    expect(log).toContain("daily/2026-11-25/report.json");
    expect(log).toContain("daily/2026-11-24/report.json");
  });

  it.each([`/reports/${api.LATEST}`, `/reports/${api.LATEST}?format=html`])(
    "answers %s with 502 invalid_stored_report naming the file, not its contents",
    async (path) => {
      const answer = await call(path);
      expect(answer.status).toBe(502);
      const error = expectErrorBody(answer.text, "invalid_stored_report");
      expect(error.message).toBe(
        `the stored daily/${api.LATEST}/report.json is not a valid report: it is not JSON`,
      );
      expect(answer.text).not.toContain(api.SECRET);
      expect(answer.text).not.toContain(damagedRoot);
      expect(api.logLines.join("")).toContain("invalid_stored_report");
    },
  );

  it.each(["/reports/latest"])(
    "answers %s with a bare 500 internal_error, hiding paths and contents",
    async (path) => {
      const answer = await call(path);
      expect(answer.status).toBe(500);
      const error = expectErrorBody(answer.text, "internal_error");
      expect(error.message).toBe("the request could not be completed");
      expect(answer.text).not.toContain(api.SECRET);
      expect(answer.text).not.toContain(damagedRoot);
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      // The cause is in the log for the operator, not in the answer.
      expect(api.logLines.join("")).toMatch(/request failed/);
    },
  );
});
