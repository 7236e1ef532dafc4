import { escapeHtml } from "./html.js";
import { PAGE_STYLE } from "./render-html-parts.js";

/**
 * The small pages around the report page: the listing of report dates, and the page a browser
 * gets for a link that does not open what it names. Pure, like the report page: everything
 * shown is escaped, nothing is loaded from elsewhere.
 */

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body>
${body}
</body></html>
`;
}

/** A link, or the text alone where there is none to give. */
function link(href: string | undefined, text: string): string {
  return href === undefined
    ? escapeHtml(text)
    : `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

export interface ListingRow {
  readonly label: string;
  readonly generated_at: string;
  /** The day's (month's) page and its usage.csv, as links that work from this page. */
  readonly pageHref: string | undefined;
  readonly csvHref: string | undefined;
}

export function renderListingHtml(
  rows: readonly ListingRow[],
  olderHref: string | null,
  kind: "days" | "months" = "days",
): string {
  const title = kind === "months" ? "ModelArts usage by month" : "ModelArts usage reports";
  const body =
    rows.length === 0
      ? '<p class="empty">No report has been written yet.</p>'
      : `<div class="scroll"><table class="narrow"><thead><tr><th scope="col" class="k">date</th><th scope="col">generated</th><th scope="col">files</th></tr></thead><tbody>${rows
          .map(
            (r) =>
              `<tr><th scope="row" class="k">${link(r.pageHref, r.label)}</th><td>${escapeHtml(r.generated_at)}</td><td>${link(r.csvHref, "usage.csv")}</td></tr>`,
          )
          .join("")}</tbody></table></div>`;
  const older =
    olderHref === null
      ? ""
      : `<p class="meta"><a href="${escapeHtml(olderHref)}">older reports</a></p>`;
  return page(
    title,
    `<header><h1>${escapeHtml(title)}</h1><p class="meta">Newest first. Each ${kind === "months" ? "month" : "date"} opens its page; the CSV opens in a spreadsheet.</p></header>\n${body}${older}`,
  );
}

/** 403 for a signed link: what happened, and what to do, in words. */
export function renderRefusalHtml(code: string, message: string): string {
  return page(
    "This link does not open this page",
    `<header><h1>This link does not open this page</h1></header>
<p>${escapeHtml(message.charAt(0).toUpperCase() + message.slice(1))}.</p>
<p class="meta">Ask whoever sent it for a new link. (${escapeHtml(code)})</p>`,
  );
}
