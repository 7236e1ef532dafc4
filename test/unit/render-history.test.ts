import { describe, expect, it } from "vitest";
import { formatHours } from "../../src/report/format.js";
import type { HistoryDay } from "../../src/report/history-day.js";
import { escapeHtml } from "../../src/report/html.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { addDays, datesOfMonth } from "../../src/report/time.js";
import { svgs } from "../helpers/page.js";
import { makeHistoryDay, makeMetrics, makeReport } from "../helpers/report-fixture.js";

/** The days around a report on its page, drawn from the history; and the month page. */

/** A source's totals in the history with `gpu` GPU-hours. */
const makeSourceTotals = (gpu: number) => ({
  versions_active: 1,
  versions_failed: 0,
  gpu_hours: gpu,
  npu_hours: 0,
  run_hours: 1,
  peak_gpus: 1,
  peak_npus: 0,
  cost: null,
});

describe("the days around a report, from the history", () => {
  const HOSTILE_POOL = "<img src=x onerror=alert(1)>";
  /** The section under the heading `h2`, up to its end; "" when the page has none. */
  const section = (html: string, h2: string) =>
    html.match(new RegExp(`<h2>${h2}</h2>[\\s\\S]*?</section>`))?.[0] ?? "";
  /** The columns of a chart: each day's element, its link, date and content. */
  const slots = (svg: string) =>
    [...svg.matchAll(/<(a|g) (?:href="([^"]*)" )?data-date="([^"]*)">([\s\S]*?)<\/\1>/g)].map(
      (m) => ({ tag: m[1], href: m[2], date: m[3] ?? "", body: m[4] ?? "" }),
    );
  /** The slot's own title (its first child). */
  const titleOf = (body: string) => body.match(/^<title>([^<]*)<\/title>/)?.[1];
  /** The coloured parts of a column: colour, height and title. */
  const parts = (body: string) =>
    [
      ...body.matchAll(
        /<rect [^>]*height="([\d.]+)" fill="(#[0-9a-f]{6})">(?:<title>([^<]*)<\/title>)?/g,
      ),
    ].map((m) => ({ height: Number(m[1]), colour: m[2] ?? "", title: m[3] ?? "" }));
  /** The figure a chart's scale reaches, and its height in the drawing. */
  function scale(svg: string): { top: number; plot: number } {
    const ys = [...svg.matchAll(/<line class="g" [^>]*y1="([\d.]+)"/g)].map((m) => Number(m[1]));
    const labels = [...svg.matchAll(/text-anchor="end">([\d.]+)<\/text>/g)].map((m) =>
      Number(m[1]),
    );
    return { top: Math.max(...labels), plot: Math.max(...ys) - Math.min(...ys) };
  }

  const DATE = "2026-11-27";
  const last30 = Array.from({ length: 30 }, (_, i) => addDays(DATE, i - 29));
  const MISSING = "2026-11-10";
  /** Every day of the 30 but one, with a day before and after them that the page must leave out. */
  const history: HistoryDay[] = [
    makeHistoryDay("2026-10-28", { pools: [{ pool_id: "pool-a", gpu_hours: 999 }] }),
    ...last30
      .filter((d) => d !== MISSING)
      .map((d, i) =>
        makeHistoryDay(d, {
          pools: [
            { pool_id: "pool-a", gpu_hours: 3 + i, npu_hours: 1, versions_failed: i % 3 },
            { pool_id: null, gpu_hours: 1.5, npu_hours: 4 },
            { pool_id: HOSTILE_POOL, gpu_hours: 0.5, npu_hours: 0.25, versions_failed: 1 },
          ],
        }),
      )
      .reverse(), // any order
  ];
  const dayHref = (d: string) => `/reports/${d}?sig=a&b`;
  const html = renderReportHtml(makeReport(), { history, dayHref });
  const trend = section(html, "The last 30 days");
  const [gpu = "", npu = "", failed = ""] = svgs(trend);

  it("draws GPU-hours, NPU-hours and failures as three charts of the last 30 days", () => {
    expect(svgs(trend)).toHaveLength(3);
    for (const chart of [gpu, npu, failed]) {
      expect(slots(chart).map((s) => s.date)).toEqual(last30);
    }
    expect(trend).not.toContain("2026-10-28");
    expect(trend).toContain("<figcaption>GPU-hours per day, by pool</figcaption>");
    expect(trend).toContain("<figcaption>NPU-hours per day, by pool</figcaption>");
    expect(trend).toContain("<figcaption>Failed versions per day</figcaption>");
    expect(titleOf(slots(failed)[29]?.body ?? "")).toBe("2026-11-27 (this day): 2 failed versions");
  });

  it("marks the page's own day, and only that one", () => {
    for (const chart of [gpu, npu, failed]) {
      const all = slots(chart);
      const own = all.filter((s) => s.body.includes("this day"));
      expect(own.map((s) => s.date)).toEqual([DATE]);
      expect(own[0]?.body).toContain('<rect class="cur"');
      expect(own[0]?.body).toMatch(/<text [^>]*class="cur">11-27<\/text>/);
      expect(all.filter((s) => s.body.includes('class="cur"'))).toHaveLength(1);
    }
  });

  it("leaves a day missing from the history as an empty column, titled as missing", () => {
    for (const chart of [gpu, npu, failed]) {
      const missing = slots(chart).find((s) => s.date === MISSING);
      expect(titleOf(missing?.body ?? "")).toBe(`${MISSING}: missing, no report in the history`);
      expect(missing?.body).toContain('<rect class="m"');
      expect(parts(missing?.body ?? "")).toEqual([]);
    }
  });

  it("stacks a day's hours by pool up to the day's total", () => {
    for (const [chart, unit, key] of [
      [gpu, "GPU-hours", "gpu_hours"],
      [npu, "NPU-hours", "npu_hours"],
    ] as const) {
      const { top, plot } = scale(chart);
      for (const slot of slots(chart).filter((s) => s.date !== MISSING)) {
        const day = history.find((d) => d.date === slot.date) as HistoryDay;
        const total = day.totals[key];
        expect(titleOf(slot.body)).toMatch(new RegExp(`: ${formatHours(total)} ${unit}$`));
        const drawn = parts(slot.body);
        expect(drawn).toHaveLength(3);
        const height = drawn.reduce((s, p) => s + p.height, 0);
        expect(height).toBeCloseTo((total / top) * plot, 1);
        for (const p of day.pools) {
          const label = escapeHtml(p.pool_id ?? "(public pool)");
          expect(drawn.map((d) => d.title)).toContain(
            `${slot.date} · ${label}: ${formatHours(p[key])} ${unit}`,
          );
        }
      }
    }
    // the largest column reaches at most the top of its scale
    expect(scale(gpu).top).toBeGreaterThanOrEqual(3 + 28 + 2);
  });

  it("adds GPU-hours per day by source when days had several sources, stacked to the total", () => {
    const withSources = last30.map((d, i) =>
      makeHistoryDay(d, {
        pools: [{ pool_id: "pool-a", gpu_hours: 10 + i }],
        sources: [
          { source: "research.vision", ...makeSourceTotals(6 + i) },
          { source: "<b>eu</b>", ...makeSourceTotals(4) },
        ],
      }),
    );
    const page = renderReportHtml(makeReport(), { history: withSources, dayHref });
    const charts = svgs(section(page, "The last 30 days"));
    expect(charts).toHaveLength(4);
    const bySource = charts[3] ?? "";
    expect(section(page, "The last 30 days")).toContain(
      "<figcaption>GPU-hours per day, by source</figcaption>",
    );
    const last = slots(bySource)[29];
    // 10 + 29 = 39 GPU-hours: 35 in research.vision (6 + 29), 4 in eu.
    expect(titleOf(last?.body ?? "")).toMatch(/: 39 GPU-hours$/);
    expect(parts(last?.body ?? "").map((p) => p.title)).toEqual([
      "2026-11-27 · research.vision: 35 GPU-hours",
      "2026-11-27 · &lt;b&gt;eu&lt;/b&gt;: 4 GPU-hours",
    ]);
    expect(page).not.toContain("<b>eu</b>");
    // One source a day (or none, in older entries): no chart by source.
    expect(svgs(trend)).toHaveLength(3);
  });

  it("gives each pool one colour in both charts and the legend, the public pool by name", () => {
    const colourIn = (chart: string, label: string) => {
      const found = slots(chart)
        .flatMap((s) => parts(s.body))
        .filter((p) => p.title.includes(` · ${label}: `));
      const colours = new Set(found.map((p) => p.colour));
      expect(colours.size).toBe(1);
      return [...colours][0];
    };
    const labels = ["pool-a", "(public pool)", escapeHtml(HOSTILE_POOL)];
    const colours = labels.map((l) => colourIn(gpu, l));
    expect(labels.map((l) => colourIn(npu, l))).toEqual(colours);
    expect(new Set(colours).size).toBe(3);
    labels.forEach((l, i) => {
      expect(trend).toContain(`<span><i style="background:${colours[i]}"></i>${l}</span>`);
    });
  });

  it("sums the smaller pools as others when there are more than eight", () => {
    const many = [
      makeHistoryDay(DATE, {
        pools: Array.from({ length: 11 }, (_, i) => ({ pool_id: `p${i}`, gpu_hours: 20 - i })),
      }),
    ];
    const page = section(renderReportHtml(makeReport(), { history: many }), "The last 30 days");
    const legend = page.match(/<p class="legend">[\s\S]*?<\/p>/)?.[0] ?? "";
    expect(legend.match(/<span>/g)).toHaveLength(8);
    expect(legend).toContain("p6</span>");
    expect(legend).not.toContain("p7</span>");
    expect(legend).toContain("4 others</span>");
    const column = slots(svgs(page)[0] ?? "").find((s) => s.date === DATE)?.body ?? "";
    // p7 to p10: 13 + 12 + 11 + 10 GPU-hours
    expect(parts(column).map((p) => p.title)).toContain(`${DATE} · 4 others: 46 GPU-hours`);
    expect(parts(column)).toHaveLength(8);
  });

  it("links each column to its day's page where dayHref gives a link, escaped", () => {
    for (const chart of [gpu, npu, failed]) {
      for (const s of slots(chart)) {
        expect(s.tag).toBe("a");
        expect(s.href).toBe(`/reports/${s.date}?sig=a&amp;b`);
      }
    }
    const some = renderReportHtml(makeReport(), {
      history,
      dayHref: (d) => (d >= "2026-11-20" ? `/r/${d}` : undefined),
    });
    const columns = slots(svgs(section(some, "The last 30 days"))[0] ?? "");
    expect(columns.filter((s) => s.tag === "a").map((s) => s.date)).toEqual(last30.slice(22));
    for (const s of columns) expect(s.href).toBe(s.tag === "a" ? `/r/${s.date}` : undefined);
    // without dayHref, no column is a link
    const none = renderReportHtml(makeReport(), { history });
    expect(section(none, "The last 30 days")).not.toContain("<a ");
  });

  it("links the day before, and the day after only when the history has it", () => {
    const nav = (page: string) => page.match(/<nav class="meta">([\s\S]*?)<\/nav>/)?.[1];
    expect(nav(html)).toBe('<a href="/reports/2026-11-26?sig=a&amp;b">← previous day</a>');
    const withNext = renderReportHtml(makeReport(), {
      history: [...history, makeHistoryDay("2026-11-28")],
      dayHref,
    });
    expect(nav(withNext)).toBe(
      '<a href="/reports/2026-11-26?sig=a&amp;b">← previous day</a> · <a href="/reports/2026-11-28?sig=a&amp;b">next day →</a>',
    );
    // no link where dayHref gives none
    const noPrevious = renderReportHtml(makeReport(), {
      history: [...history, makeHistoryDay("2026-11-28")],
      dayHref: (d) => (d === "2026-11-28" ? "/next" : undefined),
    });
    expect(nav(noPrevious)).toBe('<a href="/next">next day →</a>');
    expect(renderReportHtml(makeReport(), { history })).not.toContain("<nav");
  });

  it("says so and draws nothing without history, or with none of the 30 days", () => {
    for (const page of [
      renderReportHtml(makeReport()),
      renderReportHtml(makeReport(), { history: [], dayHref }),
      renderReportHtml(makeReport(), { history: [makeHistoryDay("2026-10-28")], dayHref }),
    ]) {
      const empty = section(page, "The last 30 days");
      expect(empty).toContain('<p class="empty">The history holds none of the last 30 days.</p>');
      expect(svgs(empty)).toHaveLength(0);
    }
  });

  it("writes a pool id and a link from the caller escaped only", () => {
    const page = renderReportHtml(makeReport(), {
      history,
      dayHref: (d) => `/r/${d}"><script>x</script>`,
    });
    expect(page).not.toContain(HOSTILE_POOL);
    expect(page).not.toMatch(/<img|<script/i);
    const escaped = escapeHtml(HOSTILE_POOL);
    expect(section(page, "The last 30 days").split(escaped).length - 1).toBeGreaterThan(30);
    expect(page).toContain('href="/r/2026-11-27&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  describe("on a month page", () => {
    const month = (report_date: string) =>
      makeReport({
        period: "month",
        label: report_date,
        window: { start: `${report_date}-01T00:00:00+00:00`, end: "2026-12-01T00:00:00+00:00" },
        previous: makeMetrics(),
      });
    const november = datesOfMonth("2026-11");
    const monthHistory = [
      ...history,
      makeHistoryDay("2026-11-28", { pools: [{ pool_id: "pool-a", gpu_hours: 2 }] }),
      makeHistoryDay("2026-12-01", { pools: [{ pool_id: "pool-a", gpu_hours: 7 }] }),
    ];
    const monthHref = (m: string) => `/reports/months/${m}`;
    const page = renderReportHtml(month("2026-11"), {
      history: monthHistory,
      dayHref,
      monthHref,
    });
    const days = section(page, "Days of the month");

    it("is titled with the month and says it is one", () => {
      expect(page).toContain("<title>ModelArts usage 2026-11 (UTC)</title>");
      expect(page).toMatch(/<h1>ModelArts usage in the month <span class="nw">2026-11<\/span>/);
      expect(page).toContain("(change from the month before)");
      expect(page).not.toContain("day before");
      expect(page).toContain("No GPU-hours this month");
      expect(page).toContain("Nothing this month.");
    });

    it("draws every day of the month, each linking to its page, and not the last 30 days", () => {
      expect(section(page, "The last 30 days")).toBe("");
      expect(svgs(days)).toHaveLength(3);
      for (const chart of svgs(days)) {
        const columns = slots(chart);
        expect(columns.map((s) => s.date)).toEqual(november);
        for (const s of columns) expect(s.href).toBe(`/reports/${s.date}?sig=a&amp;b`);
        expect(chart).not.toContain("this day");
      }
      expect(november).toHaveLength(30);
      // 11-01 to 11-27 but 11-10, and 11-28, are in the history; the 29th and 30th are missing
      const gpuColumns = slots(svgs(days)[0] ?? "");
      const missing = gpuColumns.filter((s) =>
        titleOf(s.body)?.endsWith("missing, no report in the history"),
      );
      expect(missing.map((s) => s.date)).toEqual(["2026-11-10", "2026-11-29", "2026-11-30"]);
      expect(titleOf(gpuColumns[27]?.body ?? "")).toBe("2026-11-28: 2 GPU-hours");
      expect(days).not.toContain("2026-12-01");

      const october = renderReportHtml(month("2026-10"), { history: monthHistory, dayHref });
      const octoberColumns = slots(svgs(section(october, "Days of the month"))[0] ?? "");
      expect(octoberColumns.map((s) => s.date)).toEqual(datesOfMonth("2026-10"));
      expect(octoberColumns).toHaveLength(31);
    });

    it("links the month before, and the month after once the history has its last day", () => {
      const nav = (p: string) => p.match(/<nav class="meta">([\s\S]*?)<\/nav>/)?.[1];
      expect(nav(page)).toBe('<a href="/reports/months/2026-10">← previous month</a>');
      const october = renderReportHtml(month("2026-10"), { history: monthHistory, monthHref });
      expect(nav(october)).toBe('<a href="/reports/months/2026-09">← previous month</a>');
      const ended = renderReportHtml(month("2026-10"), {
        history: [...monthHistory, makeHistoryDay("2026-11-30")],
        monthHref,
      });
      expect(nav(ended)).toBe(
        '<a href="/reports/months/2026-09">← previous month</a> · <a href="/reports/months/2026-11">next month →</a>',
      );
      expect(renderReportHtml(month("2026-11"), { history: monthHistory })).not.toContain("<nav");
    });

    it("says so without a day of the month in the history, and escapes pool ids", () => {
      const none = renderReportHtml(month("2026-11"), { history: [makeHistoryDay("2026-12-01")] });
      expect(section(none, "Days of the month")).toContain(
        '<p class="empty">The history holds no day of this month.</p>',
      );
      expect(svgs(section(none, "Days of the month"))).toHaveLength(0);
      expect(page).not.toContain(HOSTILE_POOL);
      expect(days).toContain(`${escapeHtml(HOSTILE_POOL)}</span>`);
      expect(days).toContain(`2026-11-27 · ${escapeHtml(HOSTILE_POOL)}: 0.5 GPU-hours`);
    });
  });
});
