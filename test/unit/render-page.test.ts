import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeHtml } from "../../src/report/html.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { svgs } from "../helpers/page.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";

/** The report page of one day (the renderers on hand-built reports, as in render.test.ts). */

describe("the report page", () => {
  const HOSTILE_FLAVOR = "<script>alert(1)</script>";
  const flavors = [HOSTILE_FLAVOR, null, ...Array.from({ length: 18 }, (_, i) => `flavor-${i}`)];
  const report = makeReport({
    totals: makeMetrics({
      versions_active: 20,
      versions_failed: 2,
      failures_by_status: { "3": 0, "5": 2, "6": 0, "13": 0 },
      gpu_hours: 1 / 3,
      npu_hours: 5,
    }),
    by_flavor: flavors.map((flavor_code, i) => ({
      flavor_code,
      ...makeMetrics({ versions_active: 1, gpu_hours: 100 - i, npu_hours: i === 1 ? 4 : 0 }),
    })),
    by_pool: [
      { pool_id: null, ...makeMetrics({ gpu_hours: 3, npu_hours: 2 }) },
      { pool_id: `pool-"a"&'b'`, ...makeMetrics({ gpu_hours: 1 }) },
    ],
    by_flavor_pool: [
      { flavor_code: HOSTILE_FLAVOR, pool_id: null, ...makeMetrics({ gpu_hours: 3 }) },
    ],
    statuses: [{ status: 5, name: "JOBSTAT_SUBMIT_FAILED", versions: 2 }],
    anomalies: { skipped: 1, duplicate_rows: 0, reasons: { "record: <b>not</b> an object": 1 } },
  });
  const html = renderReportHtml(report, {
    csvHref: "/reports/2026-11-27/files/usage.csv?a=1&b=2",
    jsonHref: "/reports/2026-11-27/files/report.json",
  });

  it("is one self-contained HTML5 document titled with the date and time zone", () => {
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<meta name="viewport" content="width=device-width,initial-scale=1">');
    expect(html).toContain("<title>ModelArts usage 2026-11-27 (UTC)</title>");
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|url\(|@import|src=/i);
    // the only address on the page is the endpoint, as text
    const endpoint = escapeHtml(report.source.endpoint ?? "");
    expect(html).toContain(`Source ${endpoint}`);
    expect(html.replaceAll(endpoint, "")).not.toMatch(/https?:\/\//i);
    expect(html).toContain('href="/reports/2026-11-27/files/usage.csv?a=1&amp;b=2"');
  });

  it("escapes a flavor code everywhere, in the tables and in the charts' text", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const flavorChart = svgs(html)[0] ?? "";
    expect(flavorChart).toContain("&lt;script&gt;");
    expect(html).not.toContain(`pool-"a"`);
    expect(html).toContain("pool-&quot;a&quot;&amp;&#39;b&#39;");
    expect(html).toContain("record: &lt;b&gt;not&lt;/b&gt; an object: 1");
  });

  it("draws GPU- and NPU-hours by flavor and by pool as four SVG bar charts", () => {
    expect(svgs(html)).toHaveLength(4);
    const [, gpuByPool, npuByFlavor] = svgs(html);
    expect(gpuByPool).toContain(">(public pool)</text>");
    expect(npuByFlavor).toContain(">(none)</text>");
    expect(npuByFlavor).toContain(">4</text>");
    expect(npuByFlavor?.match(/<g /g)).toHaveLength(1); // only groups with NPU-hours
  });

  it("shows the 15 largest groups and sums the rest as others", () => {
    const gpuByFlavor = svgs(html)[0] ?? "";
    expect(gpuByFlavor.match(/<g /g)).toHaveLength(16);
    // groups 16 to 20 have 85 + 84 + 83 + 82 + 81 GPU-hours
    expect(gpuByFlavor).toMatch(/>5 others<\/text>.*?>415<\/text>/);
    expect(gpuByFlavor).toContain(">flavor-12</text>");
    expect(gpuByFlavor).not.toContain(">flavor-13</text>");
  });

  it("says so instead of drawing an empty chart", () => {
    const empty = renderReportHtml(makeReport());
    expect(svgs(empty)).toHaveLength(0);
    expect(empty).toContain("No GPU-hours this day");
    expect(empty).toContain("No NPU-hours this day");
    expect(empty).toContain("Nothing this day.");
  });

  it("writes hours as in the files in the tables, and failures by status with their names", () => {
    expect(html).toContain(
      '<div class="v" title="0.333333">0.3</div><div class="l">GPU-hours</div>',
    );
    expect(html).toContain("5 JOBSTAT_SUBMIT_FAILED: <b>2</b>");
    expect(html).toContain("1 bad record skipped");
  });

  it("rounds the cards for reading, with the exact figure in a title; the tables stay exact", () => {
    const page = renderReportHtml(
      makeReport({
        totals: makeMetrics({
          gpu_hours: 2273.683392,
          npu_hours: 0.04,
          run_hours: 12,
          versions_active: 12345,
          cost: 1234.5,
        }),
        currency: "EUR",
        by_flavor: [{ flavor_code: "f", ...makeMetrics({ gpu_hours: 2273.683392 }) }],
        previous: makeMetrics({ gpu_hours: 1000.1, versions_active: 12000, cost: 1000 }),
      }),
    );
    expect(page).toContain(
      '<div class="v" title="2273.683392">2,273.7</div><div class="l">GPU-hours</div>',
    );
    expect(page).toContain('<div class="d up" title="+1273.583392">+1,273.6 (+127%)</div>');
    expect(page).toContain(
      '<div class="v" title="0.04">&lt;0.1</div><div class="l">NPU-hours</div>',
    );
    expect(page).toContain('<div class="v">12</div><div class="l">run-hours</div>');
    expect(page).toContain('<div class="v" title="12345">12,345</div>');
    expect(page).toContain('<div class="v" title="1234.50">1,234.50</div>');
    expect(page).toContain("<td>2273.683392</td>");
    expect(page).not.toMatch(/class="v"[^>]*>2273/);
  });

  it("escapes every figure too, should a stored file hold markup where a number belongs", () => {
    const mark = "<marquee>x</marquee>" as unknown as number;
    const base = makeReport();
    const page = renderReportHtml({
      ...base,
      source: { ...base.source, versions_scanned: mark, pages: mark },
      totals: makeMetrics({
        versions_active: mark,
        peak_gpus: mark,
        failures_by_status: { "3": mark },
      }),
      previous: makeMetrics({ versions_active: mark }),
      by_flavor: [{ flavor_code: "f", ...makeMetrics({ versions_active: mark, gpu_hours: 1 }) }],
      statuses: [{ status: mark, name: "n", versions: mark }],
      anomalies: { skipped: mark, reasons: { r: mark }, duplicate_rows: mark },
      longest_waits: [
        { version_id: mark, version_name: "j", flavor_code: null, pool_id: null, wait_hours: 1 },
      ],
    });
    expect(page).not.toContain("<marquee");
    expect(page).toContain("&lt;marquee&gt;");
  });

  it("says how many rows the listing gave more than once, when it did", () => {
    const withAnomalies = (duplicate_rows: number) =>
      renderReportHtml({ ...makeReport(), anomalies: { skipped: 0, reasons: {}, duplicate_rows } });
    expect(withAnomalies(3)).toContain("3 duplicate rows in the listing");
    expect(withAnomalies(1)).toContain("1 duplicate row in the listing");
    expect(withAnomalies(0)).not.toContain("duplicate row");
    expect(renderReportHtml(makeReport())).not.toContain("duplicate row");
  });

  it("never writes a name containing < as it is", () => {
    // Markers around the name find every place it is written; names are short enough that
    // the charts do not shorten them.
    const name = fc
      .string({ unit: "binary", maxLength: 12 })
      .filter((s) => !/[⟦⟧]/.test(s))
      .map((s) => `<${s}`);
    fc.assert(
      fc.property(name, name, (flavor, pool) => {
        const page = renderReportHtml(
          makeReport({
            by_flavor: [{ flavor_code: `⟦${flavor}⟧`, ...makeMetrics({ gpu_hours: 1 }) }],
            by_pool: [{ pool_id: `⟦${pool}⟧`, ...makeMetrics({ npu_hours: 1 }) }],
          }),
        );
        expect(page).not.toContain(`⟦${flavor}⟧`);
        expect(page).not.toContain(`⟦${pool}⟧`);
        const written = [...page.matchAll(/⟦([\s\S]*?)⟧/g)].map((m) => m[1]);
        expect(written.length).toBeGreaterThanOrEqual(4); // charts and tables
        for (const w of written) expect([escapeHtml(flavor), escapeHtml(pool)]).toContain(w);
      }),
    );
  });
});
