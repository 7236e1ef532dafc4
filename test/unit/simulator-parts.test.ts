import { describe, expect, it } from "vitest";
import { FaultSource } from "../../src/simulator/faults.js";
import { rateLimitHeaders } from "../../src/simulator/http.js";
import { Listing, type ListingParams, parseListingQuery } from "../../src/simulator/listing.js";

/**
 * The simulator's parts on their own (the whole simulator is tested over HTTP in
 * test/integration/simulator.test.ts): where faults come from, what a page holds, the query
 * rules and the rate-limit window.
 */

const request = (n: number) => ({ offset: 0, limit: 10, request: n });

describe("FaultSource", () => {
  it("takes queued faults first, then faultFor, then the seeded dice", () => {
    const source = new FaultSource({
      faultFor: ({ request: n }) => (n === 2 ? { kind: "empty" } : undefined),
    });
    source.queue([{ kind: "hang" }, { kind: "reset" }]);
    expect(source.next(request(1))).toEqual({ kind: "hang" });
    expect(source.next(request(2))).toEqual({ kind: "reset" });
    expect(source.next(request(2))).toEqual({ kind: "empty" });
    expect(source.next(request(3))).toBeUndefined();
  });

  it("draws the same random faults for the same seed", () => {
    const draw = (seed: number) => {
      const source = new FaultSource({ failureRate: 0.5, seed });
      return Array.from({ length: 40 }, (_, i) => source.next(request(i)));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7).filter((f) => f !== undefined).length).toBeGreaterThan(5);
  });

  it("refuses to queue a status fault without an HTTP status, and queues nothing of the batch", () => {
    const source = new FaultSource({});
    expect(() => source.queue([{ kind: "hang" }, { kind: "status", status: 600 }])).toThrowError(
      /status from 200 to 599, got 600/,
    );
    expect(source.next(request(1))).toBeUndefined();
  });
});

describe("Listing", () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ version_id: i, create_time: i }));
  const params = (over: Partial<ListingParams> = {}): ListingParams => {
    const parsed = parseListingQuery(new URLSearchParams("order=asc&limit=4"));
    if (typeof parsed === "string") throw new Error(parsed);
    return { ...parsed, ...over };
  };
  const ids = (body: string) =>
    (JSON.parse(body) as { versions: { version_id: number }[] }).versions.map((v) => v.version_id);

  it("counts hidden rows in total_count but shows them on no page", () => {
    const listing = new Listing(records, { hiddenRows: [1, 5] });
    expect(ids(listing.pageBody(params()))).toEqual([0, 2, 3]);
    expect(ids(listing.pageBody(params({ offset: 4 })))).toEqual([4, 6, 7]);
    expect(JSON.parse(listing.pageBody(params())).total_count).toBe(10);
  });

  it("caps a page at pageCap, limit=0 included", () => {
    const listing = new Listing(records, { pageCap: 3 });
    expect(ids(listing.pageBody(params({ limit: 0 })))).toEqual([0, 1, 2]);
  });

  it("serves what setVersions and the hook leave, not a stale sorted copy", () => {
    const listing = new Listing(records, {});
    expect(listing.total(params())).toBe(10);
    listing.setVersions(records.slice(0, 3));
    expect(listing.total(params())).toBe(3);
    listing.onListing(({ versions }) => versions.push({ version_id: 99, create_time: -1 }));
    listing.beforePage(1);
    expect(ids(listing.pageBody(params()))).toEqual([99, 0, 1, 2]);
  });
});

describe("parseListingQuery", () => {
  it("defaults to the newest 20 of workspace 0", () => {
    expect(parseListingQuery(new URLSearchParams(""))).toEqual({
      offset: 0,
      limit: 20,
      sortBy: "create_time",
      order: "desc",
      status: undefined,
      poolId: undefined,
      workspaceId: "0",
    });
  });

  it.each([
    ["offset=-1", 'offset must be a non-negative integer, got "-1"'],
    ["limit=1.5", 'limit must be a non-negative integer, got "1.5"'],
    ["order=up", 'order must be asc or desc, got "up"'],
    ["status=x", 'status must be a status code, got "x"'],
  ])("says what is wrong with %s", (query, message) => {
    expect(parseListingQuery(new URLSearchParams(query))).toBe(message);
  });
});

it("counts rate-limit use per 60-second window of the simulator's clock", () => {
  let t = 1_000_000;
  const next = rateLimitHeaders(() => t);
  expect(next()["X-ratelimit-used"]).toBe("1");
  t += 59_999;
  expect(next()["X-ratelimit-used"]).toBe("2");
  t += 1;
  expect(next()).toEqual({
    "X-ratelimit": "1000",
    "X-ratelimit-used": "1",
    "X-ratelimit-window": "60s",
  });
});
