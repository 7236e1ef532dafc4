import type { Outcome } from "../modelarts/statuses.js";

/** What the HTML pages (report, trend, listing, refusal) share: escaping, labels, colours. */

/** Text (or a figure: a stored file may hold text where a number belongs) safe in HTML. */
export function escapeHtml(value: string | number): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export const poolLabel = (p: string | null) => p ?? "(public pool)";

export const OUTCOME_COLOURS: Record<Outcome, string> = {
  completed: "#2f9e44",
  failed: "#e03131",
  lost: "#9c36b5",
  cancelled: "#f08c00",
  running: "#1c7ed6",
  unknown: "#868e96",
};
