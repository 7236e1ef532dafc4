import { type PeriodKind, type PeriodRef, periodOf } from "../report/period.js";
import type { ReportPeriod } from "../report/types.js";
import { RequestError } from "../shared/errors.js";

/**
 * The one route table of the HTTP API: each route's method and path (as API Gateway's route
 * key), the function and handler module serverless.yml deploys for it, and, for a GET route,
 * what a signed link must open to reach it. The handlers, the link scopes (path → scope and
 * back), the pages' links and the tests' API Gateway all read it; a test holds serverless.yml
 * to it.
 */

/** What a request reaches, as the route names it; `file` on the download routes. */
export type LinkTarget =
  | { readonly kind: "list" }
  | { readonly kind: "latest" }
  | { readonly kind: "day"; readonly date: string; readonly file?: string }
  | { readonly kind: "month"; readonly month: string; readonly file?: string }
  | { readonly kind: "latest-month" }
  | SourceTarget;

/** One source's slice of one day's or month's report (§10): its JSON, CSV, jobs and page. */
export interface SourceTarget {
  readonly kind: "source";
  readonly period: ReportPeriod;
  /** The date or month. */
  readonly label: string;
  /** The source's name, as report.json's `sources` names it. */
  readonly source: string;
}

/**
 * What a GET route serves: a listing, one day's (month's) report or one of its files, or one
 * source's slice of it.
 */
export type RouteOpens =
  | { readonly kind: "list" }
  | { readonly kind: "report"; readonly period: ReportPeriod; readonly file: boolean }
  | { readonly kind: "source"; readonly period: ReportPeriod };

export interface Route {
  readonly method: "GET" | "POST";
  /** API Gateway's path pattern: a `{param}` is one whole segment. */
  readonly path: string;
  /** The function's name in serverless.yml. */
  readonly function: string;
  /** Its handler, as serverless.yml names it (`module.export`); POST /reports differs by stage. */
  readonly handler: string | { readonly local: string; readonly deployed: string };
  /** What a signed link must open to reach the route; a route without it takes only the token. */
  readonly opens?: RouteOpens;
}

const day = (file: boolean): RouteOpens => ({ kind: "report", period: "day", file });
const month = (file: boolean): RouteOpens => ({ kind: "report", period: "month", file });

export const ROUTES = {
  listMonths: {
    method: "GET",
    path: "/reports/months",
    function: "listMonths",
    handler: "src/handlers/list-months.handler",
    opens: { kind: "list" },
  },
  getMonth: {
    method: "GET",
    path: "/reports/months/{month}",
    function: "getMonth",
    handler: "src/handlers/get-month.handler",
    opens: month(false),
  },
  getMonthFile: {
    method: "GET",
    path: "/reports/months/{month}/files/{name}",
    function: "getMonthFile",
    handler: "src/handlers/get-month-file.handler",
    opens: month(true),
  },
  listReports: {
    method: "GET",
    path: "/reports",
    function: "listReports",
    handler: "src/handlers/list-reports.handler",
    opens: { kind: "list" },
  },
  getReport: {
    method: "GET",
    path: "/reports/{date}",
    function: "getReport",
    handler: "src/handlers/get-report.handler",
    opens: day(false),
  },
  getReportFile: {
    method: "GET",
    path: "/reports/{date}/files/{name}",
    function: "getReportFile",
    handler: "src/handlers/get-report-file.handler",
    opens: day(true),
  },
  getReportSource: {
    method: "GET",
    path: "/reports/{date}/sources/{name}",
    function: "getReportSource",
    handler: "src/handlers/get-report-source.handler",
    opens: { kind: "source", period: "day" },
  },
  getMonthSource: {
    method: "GET",
    path: "/reports/months/{month}/sources/{name}",
    function: "getMonthSource",
    handler: "src/handlers/get-month-source.handler",
    opens: { kind: "source", period: "month" },
  },
  postReports: {
    method: "POST",
    path: "/reports",
    function: "postReports",
    handler: {
      local: "src/handlers/post-reports-local.handler",
      deployed: "src/handlers/post-reports.handler",
    },
  },
  createLink: {
    method: "POST",
    path: "/links",
    function: "createLink",
    handler: "src/handlers/post-links.handler",
  },
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof ROUTES;

/** `GET /reports/{date}`: API Gateway's route key. */
export type RouteKey = {
  [N in RouteName]: `${(typeof ROUTES)[N]["method"]} ${(typeof ROUTES)[N]["path"]}`;
}[RouteName];

export const routeKey = (route: Route): RouteKey => `${route.method} ${route.path}` as RouteKey;

/**
 * The routes in the order API Gateway matches a path: a static segment before a parameter
 * (`/reports/months` is not the report of a date "months").
 */
export const ROUTE_LIST: readonly Route[] = (Object.values(ROUTES) as Route[])
  .map((route, index) => ({ route, index }))
  .sort((a, b) => {
    const rank = (r: Route) => r.path.split("/").map((s) => (s.startsWith("{") ? 1 : 0));
    const [x, y] = [rank(a.route), rank(b.route)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    }
    return a.index - b.index;
  })
  .map(({ route }) => route);

export interface RouteMatch {
  readonly route: Route;
  /** Each `{param}`'s segment as it appears in the path (still percent-encoded). */
  readonly params: Record<string, string>;
}

/** The route `method` and `path` reach, as API Gateway picks it, or `undefined` (its 404). */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const segments = path.split("/").slice(1);
  for (const route of ROUTE_LIST) {
    if (route.method !== method.toUpperCase()) continue;
    const pattern = route.path.split("/").slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, i) => {
      const segment = segments[i] ?? "";
      if (!part.startsWith("{")) return part === segment;
      params[part.slice(1, -1)] = segment;
      return segment !== "";
    });
    if (matches) return { route, params };
  }
  return undefined;
}

/** The path of `route` with its parameters filled in. */
export function routePath(route: Route, params: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.path} needs {${name}}`);
    return value;
  });
}

/** The date or month a route names, or 400 for one that does not exist. */
export function requireLabel(period: PeriodRef, value: string): string {
  const { isLabel, labelRule } = periodOf(period);
  if (!isLabel(value)) {
    throw new RequestError(`"${value.slice(0, 40)}" is not ${labelRule.is}`, {
      code: labelRule.code,
    });
  }
  return value;
}

/**
 * What a source's name may be in a path: the characters of report.md §10's names (`[a-z0-9-]`,
 * and `.` between an entry and its workspace), at most 105 (an entry's 40, `.`, and a workspace's
 * name of at most 40 or its id of at most 64: app/sources.ts MAX_SOURCE_NAME), never starting with
 * `.` (no name does, and `.` or `..` as a path segment would be resolved away by a browser).
 * Checked before the name reaches a message or is looked up.
 */
const SOURCE_NAME = /^(?!\.)[a-z0-9.-]{1,105}$/;

/** Whether `value` could be a source's name (it may still not be one of the report's). */
export const isSourceName = (value: string): boolean => SOURCE_NAME.test(value);

/** The source a route names, or 400 for a name no source can have. */
export function requireSourceName(value: string): string {
  if (!isSourceName(value)) {
    throw new RequestError(
      "a source's name is 1 to 105 characters of a-z, 0-9, . and -, not starting with .",
      {
        code: "invalid_source",
      },
    );
  }
  return value;
}

/** A path parameter of the route; 404 without it (API Gateway would not have routed here). */
export function requireParam(
  params: Readonly<Record<string, string | undefined>> | undefined,
  name: string,
): string {
  const value = params?.[name];
  if (value === undefined) throw new RequestError("no such route", { code: "not_found" });
  return value;
}

/** The link target of a period's report (its latest, or one label and perhaps one file). */
const PERIOD_TARGETS: Record<PeriodKind, (label: string, file: { file?: string }) => LinkTarget> = {
  day: (label, file) =>
    label === "latest" ? { kind: "latest" } : { kind: "day", date: label, ...file },
  month: (label, file) =>
    label === "latest" ? { kind: "latest-month" } : { kind: "month", month: label, ...file },
};

/** Each period's source route, filled in. */
const SOURCE_ROUTES: Record<PeriodKind, (label: string, name: string) => string> = {
  day: (date, name) => routePath(ROUTES.getReportSource, { date, name }),
  month: (month, name) => routePath(ROUTES.getMonthSource, { month, name }),
};

/** Each period's listing route. */
const LISTING_ROUTES = { day: ROUTES.listReports, month: ROUTES.listMonths } as const;

/**
 * What a GET route serves for these path parameters, for a signed link's scope check: the
 * listing, the latest report (month), one day (month) and perhaps one of its files, or one
 * source's slice of a day (month). A malformed date (month) or source name is the route's own
 * 400.
 */
export function targetOf(
  opens: RouteOpens,
  params: Readonly<Record<string, string | undefined>> | undefined,
): LinkTarget {
  if (opens.kind === "list") return { kind: "list" };
  const period = periodOf(opens.period);
  const label = requireParam(params, period.noun);
  if (opens.kind === "source") {
    // A source's slice is of one date or month: a link to a team's "latest" is not made.
    return {
      kind: "source",
      period: period.kind,
      label: requireLabel(period, label),
      source: requireSourceName(requireParam(params, "name")),
    };
  }
  const file = opens.file ? { file: requireParam(params, "name") } : {};
  return PERIOD_TARGETS[period.kind](
    label === "latest" ? "latest" : requireLabel(period, label),
    file,
  );
}

/** The one path that serves `target`: what links and pages link to. */
export function pathOf(target: LinkTarget): string {
  switch (target.kind) {
    case "list":
      return routePath(ROUTES.listReports);
    case "latest":
      return routePath(ROUTES.getReport, { date: "latest" });
    case "latest-month":
      return routePath(ROUTES.getMonth, { month: "latest" });
    case "day":
      return target.file === undefined
        ? routePath(ROUTES.getReport, { date: target.date })
        : routePath(ROUTES.getReportFile, { date: target.date, name: target.file });
    case "month":
      return target.file === undefined
        ? routePath(ROUTES.getMonth, { month: target.month })
        : routePath(ROUTES.getMonthFile, { month: target.month, name: target.file });
    case "source":
      return SOURCE_ROUTES[target.period](target.label, target.source);
  }
}

/** The listing route of a period: `/reports` or `/reports/months`. */
export function listingPath(period: PeriodRef): string {
  return routePath(LISTING_ROUTES[periodOf(period).kind]);
}
