import { describe, expect, it } from "vitest";
import { renderReportHtml } from "../../src/report/render-html.js";
import { renderSourceHtml } from "../../src/report/render-html-source.js";
import { orgDay } from "../helpers/org-report.js";
import { svgs } from "../helpers/page.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";

/** The sources on the pages (§10): the by-source section and one source's page. */

const HOSTILE = `<img src=x onerror="alert(1)">&'`;
const ESCAPED = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;";

const info = (name: string) => ({
  name,
  endpoint: `https://e.example/${HOSTILE}`,
  project_id: HOSTILE,
  workspace_id: HOSTILE,
  pool_id: HOSTILE,
  versions_scanned: 1,
  pages: 1,
  total_count_first: 1,
  total_count_last: 1,
});

describe("the by-source section", () => {
  it("lists every source with its figures and links each name to its page", () => {
    const { report } = orgDay();
    const html = renderReportHtml(report, { sourceHref: (name) => `/s/${name}?a=1&b=2` });
    const section = /<section id="sources">[\s\S]*?<\/section>/.exec(html)?.[0] ?? "";
    // research.vision: 14 GPU-h, 0 NPU-h, peak 4 GPUs, 2 versions active, 1 failed, no cost.
    expect(section).toContain(
      '<tr><th scope="row" class="k"><a href="/s/research.vision?a=1&amp;b=2">research.vision</a></th><td>14</td><td>0</td><td>4</td><td>2</td><td>1</td><td>–</td></tr>',
    );
    // Rows in report order (GPU-hours descending), the zero-usage source last.
    const names = [...section.matchAll(/<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);
    expect(names).toEqual(["research.vision", "research.nlp", "-edge", "ops"]);
    // One bar per source with GPU-hours: ops has none.
    expect(svgs(section)).toHaveLength(1);
    expect(svgs(section)[0]?.match(/<g /g)).toHaveLength(3);
  });

  it("is left out for one source, and a name without a page is plain text", () => {
    expect(renderReportHtml(makeReport())).not.toContain('id="sources"');
    const report = makeReport({
      sources: [info(HOSTILE), info("b")],
      by_source: [
        { source: HOSTILE, ...makeMetrics({ gpu_hours: 2 }) },
        { source: "b", ...makeMetrics({ gpu_hours: 1, cost: 1.5 }) },
      ],
    });
    const html = renderReportHtml(report, {
      sourceHref: (name) => (name === "b" ? `/s/b` : undefined),
    });
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain(`<th scope="row" class="k">${ESCAPED}</th>`);
    expect(html).toContain('<a href="/s/b">b</a>');
    expect(html).toContain("<td>1.50</td>");
  });
});

describe("a source's page", () => {
  const slice = {
    period: "day" as const,
    label: "2026-11-20",
    timezone: "UTC",
    window: { start: "2026-11-20T00:00:00+00:00", end: "2026-11-21T00:00:00+00:00" },
    generated_at: "2026-11-28T00:30:00.000Z",
    source: info(`team.${HOSTILE}`),
    totals: makeMetrics({ gpu_hours: 2.5, cost: 3 }),
    by_flavor_pool: [
      { flavor_code: HOSTILE, pool_id: null, ...makeMetrics({ gpu_hours: 2.5 }) },
      { flavor_code: null, pool_id: HOSTILE, ...makeMetrics({ gpu_hours: 0 }) },
    ],
    anomalies: { skipped: 1, duplicate_rows: 2 },
    currency: HOSTILE,
  };

  it("escapes everything it shows, and links only what it is given", () => {
    const html = renderSourceHtml(slice, {
      jsonHref: `/j?${HOSTILE}`,
      csvHref: "/c?a=1&b=2",
      jobs: 7,
    });
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/<script|onerror="/);
    expect(html).toContain(`<title>ModelArts usage 2026-11-20 · team.${ESCAPED} (UTC)</title>`);
    expect(html).toContain(`<a href="/j?${ESCAPED}">JSON</a>`);
    expect(html).toContain('<a href="/c?a=1&amp;b=2">sources.csv rows</a>');
    expect([...html.matchAll(/<a /g)]).toHaveLength(2);
    expect(html).toContain("7 versions in this day's jobs.csv.");
    expect(html).toContain(`cost (${ESCAPED})`);
    expect(html).toContain("1 bad record skipped and 2 duplicate rows");
  });
});
