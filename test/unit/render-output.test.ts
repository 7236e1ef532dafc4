import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildDailyReports } from "../../src/report/build.js";
import { formatHours, roundHours } from "../../src/report/format.js";
import { escapeHtml } from "../../src/report/html.js";
import { DAY } from "../../src/report/period.js";
import {
  JOBS_CSV_HEADER,
  renderJobsCsv,
  renderUsageCsv,
  USAGE_CSV_HEADER,
} from "../../src/report/render-csv.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { renderReportJson } from "../../src/report/render-json.js";
import { readCsv } from "../helpers/csv.js";
import { withOneSource } from "../helpers/one-source.js";
import { HOUR, version } from "../helpers/versions.js";

const D = Date.UTC(2026, 10, 27);
const HOSTILE = [
  "=cmd|' /C calc'!A0",
  "+1",
  "-1",
  "@SUM(1,2)",
  "\tleading tab",
  "\rcarriage",
  "\nnewline",
  'say "hi", then leave',
  "line one\nline two\r\nline three",
  "<script>alert(1)</script>",
  "ünïcødé 训练 🚀",
];

function report(names: readonly string[], flavor: (i: number) => string | null = () => "f") {
  const versions = names.map((name, i) =>
    version({
      versionId: i + 1,
      versionName: name,
      createTime: D,
      startTime: D + HOUR,
      endTime: D + 2 * HOUR,
      gpuNum: 1,
      flavorCode: flavor(i),
      poolId: i % 2 === 0 ? null : `pool-${i}`,
    }),
  );
  const [day] = buildDailyReports(
    withOneSource({
      versions,
      dates: ["2026-11-27"],
      timeZone: "UTC",
      now: D + 30 * HOUR,
      failureStatuses: [3, 5, 6, 13],
      source: {
        endpoint: "https://e",
        project_id: "p",
        workspace_id: null,
        pool_id: null,
        versions_scanned: names.length,
        pages: 1,
      },
      anomalies: { skipped: 0, duplicate_rows: 0, reasons: {} },
    }),
  );
  if (day === undefined) throw new Error("no day");
  return day;
}

const unneutralise = (cell: string) => (/^'[=+\-@\t\r\n]/.test(cell) ? cell.slice(1) : cell);

describe("CSV output", () => {
  it("quotes, neutralises and round-trips hostile job names", () => {
    const day = report(HOSTILE);
    const text = renderJobsCsv("2026-11-27", day.jobs, DAY);
    expect(text.charCodeAt(0)).not.toBe(0xfeff); // no byte-order mark
    const rows = readCsv(text);
    expect(rows[0]).toEqual([...JOBS_CSV_HEADER]);
    const names = rows.slice(1).map((r) => r[2] ?? "");
    for (const [i, name] of names.entries()) {
      const original = HOSTILE[i] as string;
      expect(unneutralise(name)).toBe(original);
      // a spreadsheet never sees a formula: a dangerous first character is behind a '
      expect(/^[=+\-@\t\r\n]/.test(name)).toBe(false);
    }
    expect(names.slice(0, 7).every((n) => n.startsWith("'"))).toBe(true);
  });

  it("writes usage.csv with the exact header, CRLF after every row and empty cells for null", () => {
    const day = report(["a", "b"], (i) => (i === 0 ? null : "=flavor"));
    const text = renderUsageCsv(day.report);
    expect(text.endsWith("\r\n")).toBe(true);
    const rows = readCsv(text);
    expect(rows[0]).toEqual([...USAGE_CSV_HEADER]);
    expect(rows.slice(1).map((r) => [r[1], r[2]])).toEqual([
      ["'=flavor", "pool-1"],
      ["", ""],
    ]);
  });

  it("round-trips any job name", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        (names) => {
          const rows = readCsv(renderJobsCsv("2026-11-27", report(names).jobs, DAY));
          expect(rows.slice(1).map((r) => unneutralise(r[2] ?? ""))).toEqual(names);
        },
      ),
    );
  });
});

describe("HTML output", () => {
  it("escapes hostile names everywhere, including the charts", () => {
    const html = renderReportHtml(report(HOSTILE, (i) => HOSTILE[i] ?? null).report);
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;");
    expect(html).not.toMatch(/<script|<link|<img|<iframe|javascript:/i);
    // GPU-hours by flavor and by pool; the fixture has no NPUs, so those two charts say so
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(html).toContain("No NPU-hours this day");
  });

  it("never lets a name through unescaped", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (text) => {
        // markers around the name find every place it is written (short enough never to be
        // shortened in a chart label); a text holding the end marker would end the match early
        fc.pre(!text.includes("Q2"));
        const name = `Q1${text}Q2`;
        const html = renderReportHtml(report(["x"], () => name).report);
        const written = [...html.matchAll(/Q1([\s\S]*?)Q2/g)].map((m) => m[1]);
        expect(written.length).toBeGreaterThan(0);
        for (const w of written) expect(w).toBe(escapeHtml(text));
      }),
    );
  });
});

describe("numbers", () => {
  it("rounds hours to 6 decimals and never writes exponents", () => {
    expect(roundHours(1 / 3)).toBe(0.333333);
    expect(roundHours(2 / 3)).toBe(0.666667);
    expect(roundHours(1e-7)).toBe(0);
    expect(formatHours(5e-7)).toBe("0.000001");
    expect(formatHours(1e-7)).toBe("0");
    expect(formatHours(123456.7654321)).toBe("123456.765432");
    const json = renderReportJson(report(["a"]).report);
    expect(json).not.toMatch(/\d[eE][+-]?\d/);
  });
});
