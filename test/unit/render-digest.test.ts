import { describe, expect, it } from "vitest";
import { renderDigest } from "../../src/report/render-digest.js";
import type { UsageReport } from "../../src/report/types.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";

/** The digest's text (report.md §11) on hand figures. */

describe("the digest", () => {
  it("writes the totals with their change, the failures, and says when nothing is new", () => {
    const report = makeReport({
      totals: makeMetrics({
        gpu_hours: 150,
        npu_hours: 10,
        versions_active: 12,
        versions_failed: 3,
        failures_by_status: { "3": 1, "5": 2 },
        cost: 99.5,
      }),
      previous: makeMetrics({
        gpu_hours: 100,
        npu_hours: 10,
        versions_active: 15,
        versions_failed: 3,
      }),
      currency: "EUR",
    });
    expect(renderDigest(report, [], undefined)).toBe(
      [
        "ModelArts usage 2026-11-27 (UTC)",
        "",
        "GPU-hours 150 (+50, +50%)",
        "NPU-hours 10 (±0)",
        "versions active 12 (−3, −20%), failed 3 (±0)",
        "cost 99.50 EUR",
        "",
        "Top flavors by GPU-hours:",
        "  none",
        "",
        "Failures by status: 3 JOBSTAT_IMAGE_FAILED: 1 · 5 JOBSTAT_SUBMIT_FAILED: 2",
        "",
        "No new alerts.",
        "",
        "No link: no link key is configured.",
        "",
      ].join("\n"),
    );
  });

  it("lists the five flavors with the most GPU-hours, most first, and only the statuses that failed", () => {
    const flavor = (flavor_code: string, gpu_hours: number) =>
      ({ ...makeMetrics({ gpu_hours }), flavor_code }) as UsageReport["by_flavor"][number];
    const report = makeReport({
      totals: makeMetrics({ failures_by_status: { "3": 0, "5": 2, "6": 0, "13": 1 } }),
      by_flavor: [
        flavor("npu.only", 0),
        flavor("b", 10),
        flavor("a", 10),
        flavor("big", 99.5),
        flavor("c", 3),
        flavor("d", 2),
        flavor("e", 1),
      ],
    });
    const text = renderDigest(report, [], undefined);
    expect(text).toContain(
      [
        "Top flavors by GPU-hours:",
        "  1. big  99.5",
        "  2. a  10",
        "  3. b  10",
        "  4. c  3",
        "  5. d  2",
        "",
      ].join("\n"),
    );
    expect(text).not.toContain("npu.only");
    expect(text).toContain(
      "Failures by status: 5 JOBSTAT_SUBMIT_FAILED: 2 · 13 JOBSTAT_CANCELED: 1\n",
    );
  });

  it("lists the new alerts and the link", () => {
    const text = renderDigest(
      makeReport(),
      [{ message: "budget x is over its limit" }],
      "https://api/x",
    );
    expect(text).toContain("New alerts:\n  - budget x is over its limit\n");
    expect(text).toContain("The day's page (7 days): https://api/x\n");
  });
});
