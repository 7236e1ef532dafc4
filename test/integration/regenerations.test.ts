import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStore } from "../../src/storage/file-store.js";
import {
  claimRegeneration,
  finishRegeneration,
  MAX_PENDING_REGENERATIONS,
  PENDING_TTL_MS,
  REGENERATIONS_KEY,
  RegenerationPendingError,
  RegenerationQueueFullError,
} from "../../src/storage/regenerations.js";

/** The regeneration queue on real file storage, whose conditional writes are atomic. */

const NOW = Date.UTC(2026, 11, 2, 1);
let dir: string;
let store: FileStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "regenerations-"));
  store = new FileStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pending = async () =>
  JSON.parse((await store.get(REGENERATIONS_KEY))?.body.toString() ?? '{"pending":[]}').pending;

describe("the regeneration queue", () => {
  it("refuses dates that overlap a pending regeneration, naming it, and takes others", async () => {
    const first = await claimRegeneration(store, ["2026-11-20", "2026-11-21", "2026-11-22"], NOW);
    expect(first).toMatchObject({ from: "2026-11-20", to: "2026-11-22" });
    for (const dates of [["2026-11-22"], ["2026-11-18", "2026-11-19", "2026-11-20"]]) {
      const error = await claimRegeneration(store, dates, NOW).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegenerationPendingError);
      expect((error as RegenerationPendingError).pending.map((p) => p.id)).toEqual([first.id]);
      expect((error as Error).message).toContain("2026-11-20..2026-11-22");
    }
    const other = await claimRegeneration(store, ["2026-11-23"], NOW);
    expect((await pending()).map((p: { id: string }) => p.id)).toEqual([first.id, other.id]);
  });

  it("frees the dates when the run finishes, and forgets entries once they expire", async () => {
    const first = await claimRegeneration(store, ["2026-11-20"], NOW);
    await finishRegeneration(store, first.id, NOW + 1000);
    expect(await pending()).toEqual([]);
    await claimRegeneration(store, ["2026-11-20"], NOW);
    // A run that failed for good never finishes; its entry lapses.
    const later = NOW + PENDING_TTL_MS + 1;
    const again = await claimRegeneration(store, ["2026-11-20"], later);
    expect((await pending()).map((p: { id: string }) => p.id)).toEqual([again.id]);
    await finishRegeneration(store, "unknown-id", later); // nothing to do, no error
  });

  it("lets exactly one of many simultaneous claims of the same date through", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => claimRegeneration(store, ["2026-11-20"], NOW)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect(r.reason).toBeInstanceOf(RegenerationPendingError);
    }
    expect(await pending()).toHaveLength(1);
  });

  it("takes at most a few distinct regenerations at once, and another once one has finished", async () => {
    const dates = ["2026-11-10", "2026-11-12", "2026-11-14", "2026-11-16", "2026-11-18"];
    const taken = [];
    for (const date of dates.slice(0, MAX_PENDING_REGENERATIONS)) {
      taken.push(await claimRegeneration(store, [date], NOW));
    }
    const error = await claimRegeneration(store, ["2026-11-18"], NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegenerationQueueFullError);
    expect((error as RegenerationQueueFullError).pending).toHaveLength(MAX_PENDING_REGENERATIONS);
    // An overlap is still told as such: it is the more useful answer.
    const overlap = await claimRegeneration(store, ["2026-11-10"], NOW).catch((e: unknown) => e);
    expect(overlap).toBeInstanceOf(RegenerationPendingError);
    await finishRegeneration(store, (taken[0] as { id: string }).id, NOW);
    await claimRegeneration(store, ["2026-11-18"], NOW);
    // Expired entries do not count.
    const later = NOW + PENDING_TTL_MS + 1;
    await claimRegeneration(store, ["2026-11-20"], later);
    expect(await pending()).toHaveLength(1);
  });

  it("starts afresh from a damaged queue instead of refusing every POST", async () => {
    await store.put(REGENERATIONS_KEY, "not json", "application/json");
    await claimRegeneration(store, ["2026-11-20"], NOW);
    expect(await pending()).toHaveLength(1);
  });
});
