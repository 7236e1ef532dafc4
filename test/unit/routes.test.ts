import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scopeOfPath } from "../../src/api/links.js";
import {
  type LinkTarget,
  matchRoute,
  pathOf,
  ROUTE_LIST,
  ROUTES,
  routeKey,
  routePath,
  targetOf,
} from "../../src/api/routes.js";
import { RequestError } from "../../src/shared/errors.js";

const date = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z") })
  .filter((d) => !Number.isNaN(d.getTime()))
  .map((d) => d.toISOString().slice(0, 10));
const file = fc.constantFrom("report.json", "usage.csv", "jobs.csv", "manifest.json");
const sourceName = fc.stringMatching(/^[a-z0-9-][a-z0-9.-]{0,80}$/);
const target: fc.Arbitrary<LinkTarget> = fc.oneof(
  fc
    .tuple(date, sourceName)
    .map(([d, source]) => ({ kind: "source", period: "day", label: d, source }) as const),
  fc
    .tuple(date, sourceName)
    .map(
      ([d, source]) => ({ kind: "source", period: "month", label: d.slice(0, 7), source }) as const,
    ),
  fc.constant({ kind: "list" } as const),
  fc.constant({ kind: "latest" } as const),
  fc.constant({ kind: "latest-month" } as const),
  date.map((d) => ({ kind: "day", date: d }) as const),
  date.map((d) => ({ kind: "month", month: d.slice(0, 7) }) as const),
  fc.tuple(date, file).map(([d, f]) => ({ kind: "day", date: d, file: f }) as const),
  fc.tuple(date, file).map(([d, f]) => ({ kind: "month", month: d.slice(0, 7), file: f }) as const),
);

describe("the route table", () => {
  it("matches a static segment before a parameter, as API Gateway does", () => {
    expect(matchRoute("GET", "/reports/months")?.route).toBe(ROUTES.listMonths);
    expect(matchRoute("GET", "/reports/latest")?.route).toBe(ROUTES.getReport);
    expect(matchRoute("get", "/reports/months/2026-11/files/jobs.csv")).toEqual({
      route: ROUTES.getMonthFile,
      params: { month: "2026-11", name: "jobs.csv" },
    });
    expect(matchRoute("POST", "/reports")?.route).toBe(ROUTES.postReports);
    expect(matchRoute("GET", "/reports/2026-11-27/sources/ops")).toEqual({
      route: ROUTES.getReportSource,
      params: { date: "2026-11-27", name: "ops" },
    });
    expect(matchRoute("GET", "/reports/months/2026-11/sources/a.b")).toEqual({
      route: ROUTES.getMonthSource,
      params: { month: "2026-11", name: "a.b" },
    });
    for (const [method, path] of [
      ["GET", "/links"],
      ["DELETE", "/reports"],
      ["GET", "/reports/"],
      ["GET", "/reports//files/x"],
    ] as const) {
      expect(matchRoute(method, path), `${method} ${path}`).toBeUndefined();
    }
    const months = ROUTE_LIST.indexOf(ROUTES.listMonths);
    expect(months).toBeLessThan(ROUTE_LIST.indexOf(ROUTES.getReport));
  });

  it("opens, by the path it links to, exactly the target a page or a link was made for", () => {
    fc.assert(
      fc.property(target, (t) => {
        const match = matchRoute("GET", pathOf(t));
        expect(match?.route.opens).toBeDefined();
        if (match?.route.opens === undefined) return;
        expect(targetOf(match.route.opens, match.params)).toEqual(t);
        // A link can be asked for by that path unless it is a download (made by pages only).
        const asked = scopeOfPath(pathOf(t));
        expect(asked).toEqual("file" in t && t.file !== undefined ? undefined : t);
      }),
    );
  });

  it("refuses a date or month that does not exist with the route's own 400", () => {
    const opens = ROUTES.getReport.opens;
    expect(() => targetOf(opens, { date: "2026-02-30" })).toThrow(RequestError);
    expect(() => targetOf(ROUTES.getMonth.opens, { month: "2026-13" })).toThrow(/not a month/);
    expect(() => targetOf(opens, {})).toThrow(/no such route/);
    expect(() => routePath(ROUTES.getReport)).toThrow(/needs \{date\}/);
    const source = ROUTES.getReportSource.opens;
    expect(() => targetOf(source, { date: "2026-11-27", name: "Research" })).toThrow(
      expect.objectContaining({ code: "invalid_source" }),
    );
    expect(() => targetOf(source, { date: "latest", name: "ops" })).toThrow(
      expect.objectContaining({ code: "invalid_date" }),
    );
    expect(() => targetOf(ROUTES.getMonthSource.opens, { month: "2026-11" })).toThrow(
      /no such route/,
    );
  });

  it("names each route once, by method and path", () => {
    const keys = ROUTE_LIST.map(routeKey);
    expect(new Set(keys).size).toBe(Object.keys(ROUTES).length);
    expect(keys).toContain("GET /reports/{date}/files/{name}");
    expect(keys).toContain("GET /reports/{date}/sources/{name}");
    expect(keys).toContain("GET /reports/months/{month}/sources/{name}");
  });
});
