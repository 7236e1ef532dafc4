import type { BudgetState } from "./budgets.js";
import { escapeHtml } from "./html.js";
import { fmt, type Kind } from "./render-html-parts.js";
import type { StoredReport } from "./stored-schema.js";

/**
 * The budgets of a day's or month's page (report.md §11): one bar per budget, the actual
 * filled, the forecast as a marker, the limit as a line; its state in words beside it (colour
 * is never the only sign). No scripts; every value escaped.
 */

const WIDTH = 480;
const BAR = 300;
const LEFT = 0;
const COLOURS = { ok: "#2e7d32", forecast_over: "#ef6c00", over: "#c62828" } as const;
const WORDS = { ok: "ok", forecast_over: "forecast over", over: "over" } as const;

const kindOf = (b: BudgetState): Kind => (b.metric === "cost" ? "cost" : "hours");
const unitOf = (b: BudgetState) =>
  b.metric === "cost" ? "" : b.metric === "gpu_hours" ? " GPU-h" : " NPU-h";

function bar(b: BudgetState): string {
  const kind = kindOf(b);
  const top = Math.max(b.limit, b.actual, b.forecast ?? 0) * 1.05 || 1;
  const x = (v: number) => LEFT + (v / top) * BAR;
  const forecast =
    b.forecast === null
      ? ""
      : `<line x1="${x(b.forecast).toFixed(1)}" x2="${x(b.forecast).toFixed(1)}" y1="2" y2="22" stroke="#555" stroke-dasharray="3 2"><title>forecast ${escapeHtml(fmt(b.forecast, kind))}</title></line>`;
  const text = `${fmt(b.actual, kind)}${b.forecast === null ? "" : ` (forecast ${fmt(b.forecast, kind)})`} of ${fmt(b.limit, kind)}${unitOf(b)}: ${WORDS[b.state]}`;
  return `<figure class="chart budget"><figcaption>${escapeHtml(b.name)} <span class="meta">(${escapeHtml(b.period)}, ${escapeHtml(b.metric)})</span></figcaption><svg role="img" aria-label="${escapeHtml(`${b.name}: ${text}`)}" viewBox="0 0 ${WIDTH} 24" width="100%" preserveAspectRatio="xMinYMin meet"><rect x="0" y="4" width="${BAR}" height="16" fill="#eceff1"/><rect x="0" y="4" width="${x(b.actual).toFixed(1)}" height="16" fill="${COLOURS[b.state]}"><title>${escapeHtml(text)}</title></rect>${forecast}<line x1="${x(b.limit).toFixed(1)}" x2="${x(b.limit).toFixed(1)}" y1="0" y2="24" stroke="#000" stroke-width="2"><title>limit ${escapeHtml(fmt(b.limit, kind))}</title></line><text x="${BAR + 8}" y="17" font-size="12">${escapeHtml(WORDS[b.state])}</text></svg><p class="meta">${escapeHtml(text)}</p></figure>`;
}

/** The page's budgets section; nothing when the report has none. */
export function budgetsSection(report: StoredReport): string {
  if (report.budgets.length === 0) return "";
  return `<section><h2>Budgets</h2><div class="charts">${report.budgets.map(bar).join("")}</div></section>`;
}
