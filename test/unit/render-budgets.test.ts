import { describe, expect, it } from "vitest";
import type { BudgetState } from "../../src/report/budgets.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { makeReport } from "../helpers/report-fixture.js";

/** The budgets on a page (report.md §11): a bar each, actual, forecast marker, limit. */

const month: BudgetState = {
  name: "<b>org</b> month",
  period: "month",
  metric: "gpu_hours",
  limit: 200,
  actual: 100,
  forecast: 250,
  state: "forecast_over",
};
const day: BudgetState = {
  name: "eu cost",
  period: "day",
  metric: "cost",
  limit: 10,
  actual: 12.5,
  forecast: null,
  state: "over",
};

describe("the budgets section", () => {
  const html = renderReportHtml(makeReport({ budgets: [month, day] }));
  const section = html.match(/<h2>Budgets<\/h2>[\s\S]*?<\/section>/)?.[0] ?? "";

  it("draws each budget's actual, forecast and limit on one scale, with its state in words", () => {
    // Scale: the largest of limit, actual and forecast × 1.05 = 262.5 over 300 px.
    const [first = ""] = section.split("</figure>");
    expect(first).toContain('<rect x="0" y="4" width="114.3" height="16" fill="#ef6c00">'); // 100
    expect(first).toContain('<line x1="285.7" x2="285.7" y1="2" y2="22"'); // forecast 250
    expect(first).toContain('<line x1="228.6" x2="228.6" y1="0" y2="24"'); // limit 200
    expect(first).toContain("100 (forecast 250) of 200 GPU-h: forecast over");
    expect(section).toContain("12.50 of 10.00: over");
  });

  it("escapes the names, and is absent without budgets", () => {
    expect(section).toContain("&lt;b&gt;org&lt;/b&gt; month");
    expect(section).not.toContain("<b>org");
    expect(renderReportHtml(makeReport())).not.toContain("<h2>Budgets</h2>");
  });
});
