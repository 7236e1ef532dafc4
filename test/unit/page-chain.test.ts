import { describe, expect, it } from "vitest";
import type { RecordKey } from "../../src/scan/collector.js";
import { coveredRows, join, type Page, PlannedPages, rootJoin } from "../../src/scan/page-chain.js";
import { pool } from "../../src/scan/workers.js";
import { IncompleteScanError } from "../../src/shared/errors.js";

/** Pages in the order the tests make them, which is the order they are read. */
let read = 0;
/** A page of the listing at `offset` holding these record keys. */
const page = (offset: number, keys: RecordKey[], totalCount = 100): Page => ({
  offset,
  seq: ++read,
  count: keys.length,
  totalCount,
  keys,
});

/** What `b` adds after `a`; the pages must link. */
function linked(a: Page, b: Page) {
  const joined = join(a, b);
  expect(joined).toBeDefined();
  return joined as NonNullable<typeof joined>;
}

describe("page chain", () => {
  it("links a page that starts on the last record of the one before, counting only its new rows", () => {
    const joined = join(page(0, [1, 2, 3]), page(2, [3, 4, 5]));
    expect(joined).toMatchObject({ root: false, fresh: 2 });
    expect([...(joined?.ids ?? [])]).toEqual([4, 5]);
  });

  it("does not link pages that share only a record listed twice", () => {
    expect(join(page(0, [1, 7, 7]), page(2, [7, 8, 9]))).toBeUndefined();
  });

  it("counts rows that repeat a version id as duplicate rows, and id-less rows by content", () => {
    // The listing: 1, x, 2, 3, x, 2, 4 (x a malformed record without an id, 2 listed twice).
    const first = page(0, [1, "raw:x", 2], 7);
    first.join = rootJoin(first);
    const second = page(2, [2, 3, "raw:x"], 7);
    second.join = linked(first, second);
    const third = page(4, ["raw:x", 2, 4], 7);
    third.join = linked(second, third);
    const covered = coveredRows([first, second, third]);
    expect(covered.rows).toBe(7);
    expect(covered.idlessRows.get("raw:x")).toBe(2);
    expect(covered.duplicateRows).toBe(1);
  });

  it("refuses a chain with a page not linked to the ones before it", () => {
    const first = page(0, [1, 2]);
    first.join = rootJoin(first);
    expect(() => coveredRows([first, page(2, [5, 6])])).toThrow(IncompleteScanError);
  });

  it("lets a planned page go of its keys once it is linked on both sides, whatever the order of arrival", () => {
    const first = page(0, [1, 2, 3]);
    const planned = new PlannedPages(first, 3);
    const [a, b, c] = [page(2, [3, 4, 5]), page(4, [5, 6, 7]), page(6, [7, 8, 9])];
    planned.arrive(3, c);
    planned.arrive(1, a);
    expect(first.keys).toHaveLength(0); // the first page has nothing before it
    expect(a.keys).toHaveLength(3); // b is not in yet
    planned.arrive(2, b);
    expect(a.keys).toHaveLength(0);
    expect(b.keys).toHaveLength(0);
    expect(c.keys).toHaveLength(3); // the last keeps its keys for the walk past the plan
    expect([a.linksNext, b.linksNext]).toEqual([true, true]);
    expect(c.join?.fresh).toBe(2);
  });
});

describe("worker pool", () => {
  it("keeps at most `limit` tasks in flight and returns results in task order", async () => {
    let running = 0;
    let most = 0;
    const tasks = Array.from({ length: 12 }, (_, i) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      running--;
      return i;
    });
    const results = await pool(3, tasks, new AbortController().signal);
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(most).toBe(3);
  });

  it("starts no task once the signal aborts, and throws its reason", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) => async () => {
      started.push(i);
      if (i === 1) controller.abort(new Error("stop"));
      await new Promise((r) => setTimeout(r, 1));
      return i;
    });
    await expect(pool(2, tasks, controller.signal)).rejects.toThrow("stop");
    expect(started).toEqual([0, 1]);
  });
});
