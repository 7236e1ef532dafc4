import { statusName } from "../modelarts/statuses.js";
import type { AlertCandidate } from "./alert-rules.js";
import { formatHours } from "./format.js";
import type { UsageReport } from "./types.js";

/**
 * The daily digest (report.md §11): the day's totals and their change from the day before,
 * the top five flavors by GPU-hours, failures by status, budget states, the alerts raised now,
 * and a link to the day's page. Plain text, one message; pure (the link comes in made).
 */

const change = (now: number, before: number | undefined, hours: boolean): string => {
  if (before === undefined) return "";
  const d = now - before;
  const sign = d > 0 ? "+" : d < 0 ? "−" : "±";
  const abs = hours ? formatHours(Math.abs(d)) : String(Math.abs(d));
  const pct =
    before === 0 || d === 0 ? "" : `, ${sign}${Math.round((Math.abs(d) / before) * 100)}%`;
  return ` (${sign}${abs}${pct})`;
};

/** The five flavors that burned the most GPU-hours (none that burned none), most first. */
function topFlavors(report: UsageReport): string[] {
  const top = report.by_flavor
    .filter((f) => f.gpu_hours > 0)
    .sort(
      (a, b) =>
        b.gpu_hours - a.gpu_hours || (a.flavor_code ?? "").localeCompare(b.flavor_code ?? ""),
    )
    .slice(0, 5);
  if (top.length === 0) return ["  none"];
  return top.map((f, i) => `  ${i + 1}. ${f.flavor_code ?? "(none)"}  ${formatHours(f.gpu_hours)}`);
}

export function renderDigest(
  report: UsageReport,
  alerts: readonly Pick<AlertCandidate, "message">[],
  link: string | undefined,
): string {
  const t = report.totals;
  const p = report.previous ?? undefined;
  const lines = [
    `ModelArts usage ${report.label} (${report.timezone})`,
    "",
    `GPU-hours ${formatHours(t.gpu_hours)}${change(t.gpu_hours, p?.gpu_hours, true)}`,
    `NPU-hours ${formatHours(t.npu_hours)}${change(t.npu_hours, p?.npu_hours, true)}`,
    `versions active ${t.versions_active}${change(t.versions_active, p?.versions_active, false)}, failed ${t.versions_failed}${change(t.versions_failed, p?.versions_failed, false)}`,
    ...(t.cost === null ? [] : [`cost ${t.cost.toFixed(2)} ${report.currency ?? ""}`.trimEnd()]),
    "",
    "Top flavors by GPU-hours:",
    ...topFlavors(report),
    "",
    `Failures by status: ${
      Object.entries(t.failures_by_status)
        .filter(([, n]) => n > 0)
        .map(([code, n]) => `${code} ${statusName(Number(code))}: ${n}`)
        .join(" · ") || "none"
    }`,
  ];
  if (report.budgets.length > 0) {
    lines.push("", "Budgets:");
    for (const b of report.budgets) {
      const fmt = (v: number) => (b.metric === "cost" ? v.toFixed(2) : formatHours(v));
      const forecast = b.forecast === null ? "" : `, forecast ${fmt(b.forecast)}`;
      lines.push(
        `  ${b.name} (${b.period}): ${b.state} — ${fmt(b.actual)}${forecast} of ${fmt(b.limit)}`,
      );
    }
  }
  lines.push("", alerts.length === 0 ? "No new alerts." : "New alerts:");
  for (const a of alerts) lines.push(`  - ${a.message}`);
  lines.push(
    "",
    link === undefined ? "No link: no link key is configured." : `The day's page (7 days): ${link}`,
  );
  return `${lines.join("\n")}\n`;
}

/** A message's subject: ASCII, under SNS's 100 characters, one line. */
export function digestSubject(label: string, newAlerts: number): string {
  const alerts = newAlerts === 0 ? "" : ` - ${newAlerts} new alert${newAlerts === 1 ? "" : "s"}`;
  return `ModelArts usage ${label}${alerts}`;
}

/**
 * Alerts told in a message of their own (after a run outside the schedule, or a failed
 * scheduled run): a failed run is named in the subject whatever else comes with it.
 */
export function renderAlertsMessage(
  alerts: readonly Pick<AlertCandidate, "message" | "kind" | "period">[],
): { subject: string; text: string } {
  const n = alerts.length;
  const failed = alerts.find((a) => a.kind === "run_failed");
  const more = n - 1 === 0 ? "" : ` (+${n - 1} more alert${n - 1 === 1 ? "" : "s"})`;
  const subject =
    failed === undefined
      ? `ModelArts usage - ${n} new alert${n === 1 ? "" : "s"}`
      : `ModelArts usage ${failed.period} - the scheduled run failed${more}`;
  return {
    subject,
    text: `${["New alerts:", ...alerts.map((a) => `  - ${a.message}`)].join("\n")}\n`,
  };
}
