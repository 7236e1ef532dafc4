import { createHmac, timingSafeEqual } from "node:crypto";
import { type PeriodKind, periodOf } from "../report/period.js";
import { isValidDate, isValidMonth } from "../report/time.js";
import { DOWNLOADABLE_FILES } from "../report/types.js";
import { InvalidInputError, RequestError, UsageReportError } from "../shared/errors.js";
import {
  isSourceName,
  type LinkTarget,
  matchRoute,
  pathOf,
  type SourceTarget,
  targetOf,
} from "./routes.js";

/**
 * Signed links: a URL a plain browser can open, without the API token in it. A link names a
 * scope (the listing, the latest report, one day, one month, the latest month, one source of
 * one day or month) and an expiry,
 * and carries `HMAC-SHA-256(key, "v1\nGET\n<scope>\n<expires>")` under the link key (kept in
 * Secrets Manager; rotating it invalidates every link). Pure: the clock comes in as `now`.
 *
 * Query parameters: `scope`, `expires` (epoch seconds) and `signature` (base64url). Any other
 * parameter (`format=html`) is left to the route: the signature grants access to the scope,
 * whatever form the answer takes.
 */

export type LinkScope =
  | { readonly kind: "list" }
  | { readonly kind: "latest" }
  | { readonly kind: "day"; readonly date: string }
  | { readonly kind: "month"; readonly month: string }
  | { readonly kind: "latest-month" }
  /**
   * One source's slice of one day or month (§10): what a team is given. It opens that source's
   * JSON, CSV, jobs and page, and nothing of the union or of another source.
   */
  | SourceTarget
  /**
   * One stored file of one day or month: what a page signs its own downloads with, so that a
   * page reached by a "latest" link hands out nothing wider than the files it shows.
   */
  | {
      readonly kind: "file";
      readonly period: "day" | "month";
      readonly label: string;
      readonly name: string;
    };

export type { LinkTarget };

/** The longest a link may live. */
export const MAX_LINK_SECONDS = 30 * 86_400;
/** Links on a page served through a link: short, and never beyond the link they came from. */
export const PAGE_LINK_SECONDS = 15 * 60;

export function formatScope(scope: LinkScope): string {
  switch (scope.kind) {
    case "day":
      return `day:${scope.date}`;
    case "month":
      return `month:${scope.month}`;
    case "file":
      return `file:${scope.period}:${scope.label}:${scope.name}`;
    case "source":
      return `source:${scope.period}:${scope.label}:${scope.source}`;
    default:
      return scope.kind;
  }
}

export function parseScope(text: string): LinkScope | undefined {
  if (text === "list" || text === "latest" || text === "latest-month") return { kind: text };
  const day = /^day:(.+)$/.exec(text)?.[1];
  if (day !== undefined) return isValidDate(day) ? { kind: "day", date: day } : undefined;
  const month = /^month:(.+)$/.exec(text)?.[1];
  if (month !== undefined) return isValidMonth(month) ? { kind: "month", month } : undefined;
  const file = /^file:(day|month):([^:]+):([^:]+)$/.exec(text);
  if (file !== null) {
    const [, period, label = "", name = ""] = file;
    // The pattern admits only the two kinds.
    const described = periodOf(period as PeriodKind);
    if (!described.isLabel(label) || !DOWNLOADABLE_FILES.some((f) => f === name)) return undefined;
    return { kind: "file", period: described.kind, label, name };
  }
  const source = /^source:(day|month):([^:]+):([^:]+)$/.exec(text);
  if (source !== null) {
    const [, period, label = "", name = ""] = source;
    const described = periodOf(period as PeriodKind);
    if (!described.isLabel(label) || !isSourceName(name)) return undefined;
    return { kind: "source", period: described.kind, label, source: name };
  }
  return undefined;
}

/**
 * The scope of an API path a link may be made for: the path of a route of the table that a
 * link opens, in its one spelling (`/reports`, `/reports/latest`, `/reports/YYYY-MM-DD`,
 * `/reports/months/latest`, `/reports/months/YYYY-MM`, `/reports/YYYY-MM-DD/sources/NAME`,
 * `/reports/months/YYYY-MM/sources/NAME`), trailing slashes aside. `undefined`
 * for anything else, such as a download (a file scope is made by a page, never asked for).
 */
export function scopeOfPath(path: string): Exclude<LinkScope, { kind: "file" }> | undefined {
  const p = path.replace(/\/+$/, "");
  const match = matchRoute("GET", p);
  const opens = match?.route.opens;
  if (opens === undefined || (opens.kind === "report" && opens.file)) return undefined;
  let target: LinkTarget;
  try {
    target = targetOf(opens, match?.params);
  } catch (error) {
    if (error instanceof RequestError) return undefined; // not a date (month) that exists
    throw error;
  }
  // One path per scope: `/reports/months` opens the listing too, but a link to it is `/reports`.
  if (pathOf(target) !== p || ("file" in target && target.file !== undefined)) return undefined;
  return target;
}

/** The one path a link of `scope` opens: what the link's URL is built from. */
export function pathOfScope(scope: Exclude<LinkScope, { kind: "file" }>): string {
  return pathOf(scope);
}

/**
 * The origin of an http(s) URL, which links are made on; `undefined` for anything else
 * (`javascript:`, `file:`, text that is no URL), whose origin would be "null".
 */
export function httpOrigin(base: string): string | undefined {
  if (!URL.canParse(base)) return undefined;
  const url = new URL(base);
  return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
}

/**
 * Whether a link of `scope` opens `target`. The listing opens everything under it; a day opens
 * its sources' slices, a month its own days and its and their sources' slices; the latest
 * report (or month) opens only the route that says "latest" (the page it serves signs its own
 * downloads file by file, and its sources' pages source by source); a file scope opens that
 * one file; a source's scope opens that source's slice of that day or month and nothing else.
 */
export function covers(scope: LinkScope, target: LinkTarget): boolean {
  switch (scope.kind) {
    case "list":
      return true;
    case "latest":
      return target.kind === "latest";
    case "latest-month":
      return target.kind === "latest-month";
    case "day":
      return (
        (target.kind === "day" && target.date === scope.date) ||
        (target.kind === "source" && target.period === "day" && target.label === scope.date)
      );
    case "month":
      return (
        (target.kind === "month" && target.month === scope.month) ||
        (target.kind === "day" && target.date.startsWith(`${scope.month}-`)) ||
        (target.kind === "source" &&
          (target.period === "month"
            ? target.label === scope.month
            : target.label.startsWith(`${scope.month}-`)))
      );
    case "source":
      return (
        target.kind === "source" &&
        target.period === scope.period &&
        target.label === scope.label &&
        target.source === scope.source
      );
    case "file":
      return (
        target.kind === scope.period &&
        (target.kind === "day" ? target.date : target.month) === scope.label &&
        target.file === scope.name
      );
  }
}

/** What a link of `scope` is made for, as a target (a page's links are checked as targets). */
export function targetOfScope(scope: LinkScope): LinkTarget {
  if (scope.kind !== "file") return scope;
  return scope.period === "day"
    ? { kind: "day", date: scope.label, file: scope.name }
    : { kind: "month", month: scope.label, file: scope.name };
}

function mac(key: Buffer, scope: string, expires: number): Buffer {
  return createHmac("sha256", key).update(`v1\nGET\n${scope}\n${expires}`).digest();
}

export interface SignedLink {
  readonly scope: LinkScope;
  /** Epoch seconds. */
  readonly expires: number;
}

/** The query parameters that sign a link to `scope` until `expires` (epoch seconds). */
export function signLink(key: Buffer, link: SignedLink): URLSearchParams {
  const scope = formatScope(link.scope);
  return new URLSearchParams({
    scope,
    expires: String(link.expires),
    signature: mac(key, scope, link.expires).toString("base64url"),
  });
}

export type LinkVerdict =
  | { readonly ok: true; readonly link: SignedLink }
  | { readonly ok: false; readonly reason: "invalid" | "expired" };

/**
 * Checks the signature parameters of a request. `invalid` for a link that was not made with
 * this key for this scope and expiry (tampered, cut, or signed before the key was rotated),
 * `expired` for a genuine one past its time. The expiry is checked only once the signature
 * holds, so a forged expiry is `invalid`, never `expired`.
 */
export function verifyLink(
  key: Buffer,
  query: Readonly<Record<string, string | undefined>>,
  now: number,
): LinkVerdict {
  const { scope: scopeText, expires: expiresText, signature } = query;
  if (scopeText === undefined || expiresText === undefined || signature === undefined) {
    return { ok: false, reason: "invalid" };
  }
  const scope = parseScope(scopeText);
  // One spelling per link: no leading zeros in the expiry, and no signature whose unused
  // low bits differ (43 base64url characters carry 258 bits for 256).
  const expires = /^(0|[1-9][0-9]{0,11})$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (scope === undefined || Number.isNaN(expires) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) {
    return { ok: false, reason: "invalid" };
  }
  const expected = mac(key, scopeText, expires);
  const given = Buffer.from(signature, "base64url");
  if (
    given.length !== expected.length ||
    !timingSafeEqual(given, expected) ||
    given.toString("base64url") !== signature
  ) {
    return { ok: false, reason: "invalid" };
  }
  // A link can never have been made to last longer than the maximum.
  const nowSeconds = Math.floor(now / 1000);
  if (expires > nowSeconds + MAX_LINK_SECONDS + 300) return { ok: false, reason: "invalid" };
  if (expires <= nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, link: { scope, expires } };
}

const TTL = /^([0-9]{1,7})(s|m|h|d)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `"7d"`, `"12h"`, `"30m"`, `"90s"` or plain seconds → seconds; `undefined` when malformed. */
export function parseTtl(text: string): number | undefined {
  const m = TTL.exec(text.trim());
  if (m === null) return undefined;
  const unit = (m[2] ?? "s") as keyof typeof UNIT_SECONDS;
  return Number(m[1]) * UNIT_SECONDS[unit];
}

/** The shortest link worth making. */
export const MIN_LINK_SECONDS = 60;

export type LinkRequestProblem = "path" | "ttl" | "base";

/** A link cannot be made as asked; `problem` says which part is wrong. */
export class LinkRequestError extends InvalidInputError {
  override readonly name = "LinkRequestError";
  readonly problem: LinkRequestProblem;
  constructor(message: string, options: { problem: LinkRequestProblem; cause?: unknown }) {
    super(message, options);
    this.problem = options.problem;
  }
}

export type LinkRefusal = "link_invalid" | "link_expired" | "link_out_of_scope";

const REFUSALS: Record<LinkRefusal, string> = {
  link_invalid: "this link is not valid: it was changed, cut short, or its key was rotated",
  link_expired: "this link has expired; ask for a new one",
  link_out_of_scope: "this link does not open this page",
};

/** A signed link that does not open the route it was sent to; `refusal` says why. */
export class LinkRefusedError extends UsageReportError {
  override readonly name = "LinkRefusedError";
  readonly refusal: LinkRefusal;
  constructor(refusal: LinkRefusal, options: { cause?: unknown } = {}) {
    super(REFUSALS[refusal], options);
    this.refusal = refusal;
  }
}

export interface MadeLink {
  readonly url: string;
  readonly scope: string;
  /** ISO 8601, UTC. */
  readonly expires_at: string;
}

/**
 * A signed link to `path` (an API path and, optionally, its own query such as
 * `?format=html`) on `base` (the API's origin), valid for `ttlSeconds` from `now`.
 */
export function makeLink(
  key: Buffer,
  request: { path: string; ttlSeconds: number; now: number; base: string },
): MadeLink {
  const at = request.path.indexOf("?");
  const pathname = at === -1 ? request.path : request.path.slice(0, at);
  const scope = scopeOfPath(pathname);
  if (scope === undefined) {
    throw new LinkRequestError(
      "path must be /reports, /reports/latest, /reports/YYYY-MM-DD, /reports/months/latest, /reports/months/YYYY-MM, or a source of a date or month: /reports/YYYY-MM-DD/sources/NAME, /reports/months/YYYY-MM/sources/NAME",
      { problem: "path" },
    );
  }
  const { ttlSeconds } = request;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < MIN_LINK_SECONDS) {
    throw new LinkRequestError(`ttl must be at least ${MIN_LINK_SECONDS} seconds`, {
      problem: "ttl",
    });
  }
  if (ttlSeconds > MAX_LINK_SECONDS) {
    throw new LinkRequestError("ttl must be at most 30 days", { problem: "ttl" });
  }
  const expires = Math.floor(request.now / 1000) + ttlSeconds;
  const query = new URLSearchParams(at === -1 ? "" : request.path.slice(at + 1));
  for (const name of ["scope", "expires", "signature"]) query.delete(name);
  for (const [name, value] of signLink(key, { scope, expires })) query.set(name, value);
  const origin = httpOrigin(request.base);
  if (origin === undefined)
    throw new LinkRequestError("the base is not an http(s) URL", { problem: "base" });
  // Built from the scope, not from the path as given: `/reports/2026-11-25//` names the day,
  // but only `/reports/2026-11-25` is routed.
  const url = new URL(pathOfScope(scope), origin);
  url.search = query.toString();
  return {
    url: url.href,
    scope: formatScope(scope),
    expires_at: new Date(expires * 1000).toISOString(),
  };
}
