import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AlertCandidate,
  budgetAlerts,
  failureAlert,
  runFailedAlert,
} from "../../src/report/alert-rules.js";
import type { BudgetState } from "../../src/report/budgets.js";
import { StorageError } from "../../src/shared/errors.js";
import {
  ALERTS_KEY,
  markSent,
  raiseAlerts,
  readAlerts,
  unsentAlerts,
  wasSent,
} from "../../src/storage/alerts.js";
import { FileStore } from "../../src/storage/file-store.js";

/** Alerts (report.md §11): the rules on hand data, each raised once, messages marked sent once. */

describe("the failure-spike rule", () => {
  it("needs more than 5 failures", () => {
    expect(failureAlert("2026-11-27", 5, [0, 0, 0])).toBeUndefined();
    expect(failureAlert("2026-11-27", 6, [0, 0, 0])?.id).toBe("failures:2026-11-27");
  });
  it("needs more than three times the mean, not exactly three times", () => {
    // Mean of 2, 3, 1 = 2: 6 is exactly 3×, 7 is more.
    expect(failureAlert("2026-11-27", 6, [2, 3, 1])).toBeUndefined();
    expect(failureAlert("2026-11-27", 7, [2, 3, 1])).toMatchObject({ value: 7, kind: "failures" });
  });
  it("takes the mean of the reported days only, however few, and none without any", () => {
    // Two reported days of the 14 (mean 4): 13 > 12.
    expect(failureAlert("2026-11-27", 13, [4, 4])).toBeDefined();
    expect(failureAlert("2026-11-27", 12, [4, 4])).toBeUndefined();
    expect(failureAlert("2026-11-27", 500, [])).toBeUndefined();
  });
});

describe("budget alerts", () => {
  const b = (over: Partial<BudgetState>): BudgetState => ({
    name: "gpu",
    period: "month",
    metric: "gpu_hours",
    limit: 100,
    actual: 50,
    forecast: 120,
    state: "forecast_over",
    ...over,
  });
  it("raises forecast_over and over, with the month as a month budget's period", () => {
    const alerts = budgetAlerts({
      label: "2026-11-10",
      budgets: [
        b({}),
        b({ name: "day", period: "day", actual: 20, forecast: null, limit: 10, state: "over" }),
        b({ name: "fine", state: "ok" }),
      ],
    });
    expect(alerts.map((a) => [a.id, a.value, a.limit])).toEqual([
      ["budget:gpu:2026-11:forecast_over", 120, 100],
      ["budget:day:2026-11-10:over", 20, 10],
    ]);
  });
});

describe("alerts.json", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "alerts-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const forecast = (day: string): AlertCandidate[] =>
    budgetAlerts({
      label: day,
      budgets: [
        {
          name: "gpu",
          period: "month",
          metric: "gpu_hours",
          limit: 100,
          actual: 60,
          forecast: 180,
          state: "forecast_over",
        },
      ],
    });

  it("raises an alert once: the 10th and the 11th forecast over, a rerun, a regeneration", async () => {
    const store = new FileStore(join(dir, "once"));
    expect(await raiseAlerts(store, forecast("2026-11-10"), 1)).toHaveLength(1);
    expect(await raiseAlerts(store, forecast("2026-11-11"), 2)).toEqual([]); // same month, state
    expect(await raiseAlerts(store, forecast("2026-11-10"), 3)).toEqual([]); // a rerun
    const over = budgetAlerts({
      label: "2026-11-20",
      budgets: [
        {
          name: "gpu",
          period: "month",
          metric: "gpu_hours",
          limit: 100,
          actual: 120,
          forecast: 180,
          state: "over",
        },
      ],
    });
    expect((await raiseAlerts(store, over, 4)).map((a) => a.id)).toEqual([
      "budget:gpu:2026-11:over",
    ]);
    expect((await readAlerts(store)).map((a) => a.id)).toEqual([
      "budget:gpu:2026-11:over",
      "budget:gpu:2026-11:forecast_over",
    ]);
  });

  it("raises an alert once when two runs raise it at the same time", async () => {
    const store = new FileStore(join(dir, "race"));
    const spike = failureAlert("2026-11-27", 40, [1]) as AlertCandidate;
    const [a, b] = await Promise.all([
      raiseAlerts(store, [spike], 1),
      raiseAlerts(store, [spike], 2),
    ]);
    expect((a?.length ?? 0) + (b?.length ?? 0)).toBe(1);
    expect(await readAlerts(store)).toHaveLength(1);
  });

  it("keeps the last 100, newest first, and still raises none of the older ones again", async () => {
    const store = new FileStore(join(dir, "many"));
    const days = Array.from(
      { length: 120 },
      (_, i) => failureAlert(`d${String(i).padStart(3, "0")}`, 40, [1]) as AlertCandidate,
    );
    await raiseAlerts(store, days, 1);
    const stored = await readAlerts(store);
    expect(stored).toHaveLength(100);
    expect(stored[0]?.id).toBe("failures:d119");
    expect(await raiseAlerts(store, [days[0] as AlertCandidate], 2)).toEqual([]);
    // Waiting to be told: the kept ones only (a dropped alert has no message left to send),
    // oldest first.
    const waiting = (await unsentAlerts(store)).map((a) => a.id);
    expect(waiting).toHaveLength(100);
    expect([waiting[0], waiting[99]]).toEqual(["failures:d020", "failures:d119"]);
    // Marked told with a digest: none waits, and a new one waits alone.
    expect(await markSent(store, "digest:d119", waiting)).toBe(true);
    expect(await unsentAlerts(store)).toEqual([]);
    const failed = runFailedAlert("d200", { error: "StepFailedError", detail: "", execution: "x" });
    expect(await raiseAlerts(store, [failed], 3)).toHaveLength(1);
    expect((await unsentAlerts(store)).map((a) => a.id)).toEqual(["run_failed:d200"]);
  });

  it("refuses a damaged alerts.json rather than raise everything again", async () => {
    const store = new FileStore(join(dir, "damaged"));
    await store.put(ALERTS_KEY, "{not json", "application/json");
    await expect(raiseAlerts(store, forecast("2026-11-10"), 1)).rejects.toThrow(
      "is not an alerts file",
    );
  });

  it("marks a message sent once when two runs mark it at the same time", async () => {
    const store = new FileStore(join(dir, "mark-race"));
    expect(await wasSent(store, "digest:2026-11-27")).toBe(false);
    const marked = await Promise.all(
      Array.from({ length: 4 }, () => markSent(store, "digest:2026-11-27")),
    );
    expect(marked.filter((m) => m)).toEqual([true]);
    expect(await wasSent(store, "digest:2026-11-27")).toBe(true);
    expect(await markSent(store, "digest:2026-11-27")).toBe(false);
    expect(await wasSent(store, "digest:2026-11-28")).toBe(false);
  });

  it("keeps the alerts when it marks a message, and still raises none of them again", async () => {
    const store = new FileStore(join(dir, "mark-keeps"));
    const raised = await raiseAlerts(store, forecast("2026-11-10"), 1);
    expect(await markSent(store, "digest:2026-11-10")).toBe(true);
    expect(await readAlerts(store)).toEqual(raised);
    expect(await raiseAlerts(store, forecast("2026-11-10"), 2)).toEqual([]);
    // And raising afterwards keeps the mark.
    const spike = failureAlert("2026-11-11", 40, [1]) as AlertCandidate;
    expect(await raiseAlerts(store, [spike], 3)).toHaveLength(1);
    expect(await wasSent(store, "digest:2026-11-10")).toBe(true);
  });

  it("refuses a damaged alerts.json when marking or asking, and leaves the file as it was", async () => {
    const store = new FileStore(join(dir, "mark-damaged"));
    for (const damaged of ["{not json", '{"alerts": "none"}', '{"alerts": [], "sent": [1]}']) {
      await store.put(ALERTS_KEY, damaged, "application/json");
      for (const call of [
        () => markSent(store, "digest:2026-11-27"),
        () => wasSent(store, "digest:2026-11-27"),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error, damaged).toBeInstanceOf(StorageError);
        expect((error as Error).message).toBe(`alerts.json in ${store.url} is not an alerts file`);
      }
      expect(await readFile(join(dir, "mark-damaged", ALERTS_KEY), "utf8")).toBe(damaged);
    }
  });
});
