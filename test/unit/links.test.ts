import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  covers,
  formatScope,
  type LinkScope,
  MAX_LINK_SECONDS,
  makeLink,
  parseScope,
  parseTtl,
  scopeOfPath,
  signLink,
  verifyLink,
} from "../../src/api/links.js";

const KEY = Buffer.from("k".repeat(48));
const NOW = Date.UTC(2026, 11, 2, 1, 0);
const NOW_S = NOW / 1000;
const query = (params: URLSearchParams) => Object.fromEntries(params);

describe("signed links", () => {
  const scopes: LinkScope[] = [
    { kind: "list" },
    { kind: "latest" },
    { kind: "day", date: "2026-11-27" },
    { kind: "month", month: "2026-11" },
    { kind: "latest-month" },
    { kind: "source", period: "day", label: "2026-11-27", source: "research.vision" },
    { kind: "source", period: "month", label: "2026-11", source: "ops" },
  ];

  it.each(scopes)("verifies a link to %j until it expires", (scope) => {
    const params = signLink(KEY, { scope, expires: NOW_S + 600 });
    expect(verifyLink(KEY, query(params), NOW)).toEqual({
      ok: true,
      link: { scope, expires: NOW_S + 600 },
    });
    expect(verifyLink(KEY, query(params), (NOW_S + 600) * 1000)).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("refuses a link whose scope, expiry or signature was changed, or another key's", () => {
    const params = query(
      signLink(KEY, { scope: { kind: "day", date: "2026-11-27" }, expires: NOW_S + 600 }),
    );
    const variants = [
      { ...params, scope: "day:2026-11-28" },
      { ...params, scope: "list" },
      { ...params, expires: String(NOW_S + 6000) },
      { ...params, signature: `${params.signature?.slice(0, -1)}A` },
      { ...params, signature: undefined },
      { ...params, expires: "1e9" },
      { ...params, scope: "day:2026-02-30" },
    ];
    for (const v of variants)
      expect(verifyLink(KEY, v, NOW)).toEqual({ ok: false, reason: "invalid" });
    const rotated = Buffer.from("r".repeat(48));
    expect(verifyLink(rotated, params, NOW)).toEqual({ ok: false, reason: "invalid" });
  });

  it("calls a forged expiry invalid, never just expired", () => {
    const params = query(signLink(KEY, { scope: { kind: "list" }, expires: NOW_S + 600 }));
    expect(verifyLink(KEY, { ...params, expires: String(NOW_S - 1) }, NOW)).toEqual({
      ok: false,
      reason: "invalid",
    });
  });

  it("refuses a genuine link that would live longer than 30 days", () => {
    const params = signLink(KEY, {
      scope: { kind: "list" },
      expires: NOW_S + MAX_LINK_SECONDS * 2,
    });
    expect(verifyLink(KEY, query(params), NOW)).toEqual({ ok: false, reason: "invalid" });
  });

  it("round-trips every scope through its text form", () => {
    for (const scope of scopes) expect(parseScope(formatScope(scope))).toEqual(scope);
    for (const bad of ["", "day:", "day:2026-13-01", "month:2026-13", "all", "List"]) {
      expect(parseScope(bad)).toBeUndefined();
    }
  });

  it("opens only what the scope names", () => {
    const day = { kind: "day", date: "2026-11-27" } as const;
    expect(covers({ kind: "list" }, day)).toBe(true);
    expect(covers({ kind: "list" }, { kind: "latest" })).toBe(true);
    expect(covers(day, day)).toBe(true);
    expect(covers(day, { kind: "day", date: "2026-11-28" })).toBe(false);
    expect(covers(day, { kind: "list" })).toBe(false);
    expect(covers(day, { kind: "latest" })).toBe(false);
    expect(covers({ kind: "latest" }, day)).toBe(false);
    expect(covers({ kind: "latest" }, { kind: "latest" })).toBe(true);
    expect(covers({ kind: "month", month: "2026-11" }, day)).toBe(true);
    expect(covers({ kind: "month", month: "2026-11" }, { kind: "day", date: "2026-12-01" })).toBe(
      false,
    );
    expect(covers({ kind: "month", month: "2026-11" }, { kind: "month", month: "2026-11" })).toBe(
      true,
    );
  });

  it("opens one file with a file scope, and that file only", () => {
    const csv = { kind: "file", period: "month", label: "2026-11", name: "usage.csv" } as const;
    expect(formatScope(csv)).toBe("file:month:2026-11:usage.csv");
    expect(parseScope("file:month:2026-11:usage.csv")).toEqual(csv);
    expect(covers(csv, { kind: "month", month: "2026-11", file: "usage.csv" })).toBe(true);
    for (const target of [
      { kind: "month", month: "2026-11" },
      { kind: "month", month: "2026-11", file: "jobs.csv" },
      { kind: "month", month: "2026-10", file: "usage.csv" },
      { kind: "day", date: "2026-11-29", file: "usage.csv" },
      { kind: "day", date: "2026-11-29" },
      { kind: "latest-month" },
      { kind: "list" },
    ] as const) {
      expect(covers(csv, target), JSON.stringify(target)).toBe(false);
    }
    for (const bad of [
      "file:day:2026-11-31:usage.csv",
      "file:week:2026-11:usage.csv",
      "file:month:2026-11:../x",
      "file:month:2026-11",
    ]) {
      expect(parseScope(bad), bad).toBeUndefined();
    }
    // A day's or a month's own scope opens its files as before.
    const day = { kind: "day", date: "2026-11-27", file: "jobs.csv" } as const;
    expect(covers({ kind: "day", date: "2026-11-27" }, day)).toBe(true);
    expect(covers({ kind: "month", month: "2026-11" }, day)).toBe(true);
  });

  it("opens one source's slice of one day or month with a source scope, and nothing else", () => {
    const team = {
      kind: "source",
      period: "day",
      label: "2026-11-27",
      source: "research.vision",
    } as const;
    expect(formatScope(team)).toBe("source:day:2026-11-27:research.vision");
    expect(parseScope("source:day:2026-11-27:research.vision")).toEqual(team);
    expect(covers(team, team)).toBe(true);
    for (const target of [
      { ...team, source: "research.nlp" },
      { ...team, label: "2026-11-26" },
      { ...team, period: "month", label: "2026-11" },
      { kind: "day", date: "2026-11-27" },
      { kind: "day", date: "2026-11-27", file: "jobs.csv" },
      { kind: "day", date: "2026-11-27", file: "sources.csv" },
      { kind: "day", date: "2026-11-27", file: "report.json" },
      { kind: "latest" },
      { kind: "list" },
    ] as const) {
      expect(covers(team, target), JSON.stringify(target)).toBe(false);
    }
    // The union's links reach their sources: a day its own, a month its own and its days'.
    expect(covers({ kind: "day", date: "2026-11-27" }, team)).toBe(true);
    expect(covers({ kind: "day", date: "2026-11-26" }, team)).toBe(false);
    expect(covers({ kind: "month", month: "2026-11" }, team)).toBe(true);
    expect(
      covers({ kind: "month", month: "2026-11" }, { ...team, period: "month", label: "2026-11" }),
    ).toBe(true);
    expect(covers({ kind: "month", month: "2026-10" }, team)).toBe(false);
    expect(
      covers({ kind: "day", date: "2026-11-27" }, { ...team, period: "month", label: "2026-11" }),
    ).toBe(false);
    expect(covers({ kind: "latest" }, team)).toBe(false);
    expect(covers({ kind: "list" }, team)).toBe(true);
    for (const bad of [
      "source:day:2026-11-31:a",
      "source:week:2026-11:a",
      "source:month:2026-11:../x",
      "source:month:2026-11:A",
      `source:month:2026-11:${"a".repeat(106)}`,
      "source:day:2026-11-27",
      "source:day:2026-11-27:a:b",
      "source:day:2026-11-27:..",
    ]) {
      expect(parseScope(bad), bad).toBeUndefined();
    }
  });

  it("makes a team's link for a source's path, opening that source only", () => {
    const link = makeLink(KEY, {
      path: "/reports/2026-11-27/sources/research.vision?format=html",
      ttlSeconds: 3600,
      now: NOW,
      base: "https://api.example",
    });
    expect(link.scope).toBe("source:day:2026-11-27:research.vision");
    const url = new URL(link.url);
    expect(url.pathname).toBe("/reports/2026-11-27/sources/research.vision");
    expect(url.searchParams.get("format")).toBe("html");
    expect(verifyLink(KEY, Object.fromEntries(url.searchParams), NOW)).toEqual({
      ok: true,
      link: {
        scope: { kind: "source", period: "day", label: "2026-11-27", source: "research.vision" },
        expires: NOW_S + 3600,
      },
    });
    expect(
      makeLink(KEY, {
        path: "/reports/months/2026-11/sources/ops",
        ttlSeconds: 60,
        now: NOW,
        base: "https://api.example",
      }).scope,
    ).toBe("source:month:2026-11:ops");
  });

  it("finds the scope of each path a link can be made for", () => {
    expect(scopeOfPath("/reports")).toEqual({ kind: "list" });
    expect(scopeOfPath("/reports/")).toEqual({ kind: "list" });
    expect(scopeOfPath("/reports/latest")).toEqual({ kind: "latest" });
    expect(scopeOfPath("/reports/2026-11-27")).toEqual({ kind: "day", date: "2026-11-27" });
    expect(scopeOfPath("/reports/months/2026-11")).toEqual({ kind: "month", month: "2026-11" });
    expect(scopeOfPath("/reports/months/latest")).toEqual({ kind: "latest-month" });
    expect(scopeOfPath("/reports/2026-11-27/sources/research.vision/")).toEqual({
      kind: "source",
      period: "day",
      label: "2026-11-27",
      source: "research.vision",
    });
    expect(scopeOfPath("/reports/months/2026-11/sources/ops")).toEqual({
      kind: "source",
      period: "month",
      label: "2026-11",
      source: "ops",
    });
    for (const bad of [
      "/reports/latest/sources/ops",
      "/reports/months/latest/sources/ops",
      "/reports/2026-11-27/sources/Ops",
      "/reports/2026-11-27/sources/a%2Fb",
      "/reports/2026-11-27/sources",
      "/",
      "/reports/2026-02-30",
      "/reports/x/files/usage.csv",
      "/links",
      "/reports/months",
    ]) {
      expect(scopeOfPath(bad)).toBeUndefined();
    }
  });

  it("reads ttl as 30m, 12h, 7d or seconds", () => {
    expect(parseTtl("90")).toBe(90);
    expect(parseTtl("90s")).toBe(90);
    expect(parseTtl("30m")).toBe(1800);
    expect(parseTtl("12h")).toBe(43_200);
    expect(parseTtl("7d")).toBe(604_800);
    for (const bad of ["", "7w", "-1d", "1.5h", "d"]) expect(parseTtl(bad)).toBeUndefined();
  });

  it("makes a link on the API's origin that keeps the path's own query", () => {
    const link = makeLink(KEY, {
      path: "/reports/latest?format=html&signature=old",
      ttlSeconds: 3600,
      now: NOW,
      base: "https://abc.execute-api.eu-central-1.amazonaws.com",
    });
    const url = new URL(link.url);
    expect(url.origin).toBe("https://abc.execute-api.eu-central-1.amazonaws.com");
    expect(url.pathname).toBe("/reports/latest");
    expect(url.searchParams.get("format")).toBe("html");
    expect(link).toMatchObject({ scope: "latest", expires_at: "2026-12-02T02:00:00.000Z" });
    expect(verifyLink(KEY, Object.fromEntries(url.searchParams), NOW).ok).toBe(true);
    expect(() =>
      makeLink(KEY, { path: "/x", ttlSeconds: 60, now: NOW, base: "https://a" }),
    ).toThrow(/path must be/);
    expect(() =>
      makeLink(KEY, {
        path: "/reports",
        ttlSeconds: MAX_LINK_SECONDS + 1,
        now: NOW,
        base: "https://a",
      }),
    ).toThrow(/at most 30 days/);
    expect(() =>
      makeLink(KEY, { path: "/reports", ttlSeconds: 59, now: NOW, base: "https://a" }),
    ).toThrow(/at least 60 seconds/);
  });

  it("never verifies a random signature", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const forged = {
          scope: "list",
          expires: String(NOW_S + 60),
          signature: Buffer.from(bytes).toString("base64url"),
        };
        expect(verifyLink(KEY, forged, NOW).ok).toBe(false);
      }),
    );
  });
});
