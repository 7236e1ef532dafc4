import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FileStore } from "../../src/storage/file-store.js";
import {
  acquireRunLock,
  LOCK_KEY,
  LOCK_TTL_MS,
  RunInProgressError,
  RunLockLostError,
} from "../../src/storage/run-lock.js";
import { S3Store } from "../../src/storage/s3-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { type LocalS3, startS3 } from "../helpers/s3.js";

/**
 * The run lock on both stores with real conditional writes: file storage (link() and a
 * compare-and-replace guard) and S3 (an s3rver that honours If-Match / If-None-Match).
 */

let dir: string;
let s3: LocalS3;
let count = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "run-lock-"));
  s3 = await startS3({ conditionalWrites: true });
});
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const stores: [string, () => Promise<ReportStore>][] = [
  ["file storage", async () => new FileStore(join(dir, `root-${++count}`))],
  [
    "S3",
    async () => {
      const bucket = `run-lock-${++count}`;
      await s3.createBucket(bucket);
      return new S3Store({ bucket, prefix: "reports", client: s3.client });
    },
  ],
];

const body = async (store: ReportStore) =>
  JSON.parse((await store.get(LOCK_KEY))?.body.toString() ?? "null");

describe.each(stores)("the run lock on %s", (_name, open) => {
  let store: ReportStore;
  beforeEach(async () => {
    store = await open();
  });

  it("expires LOCK_TTL_MS after it is taken, not after the run started", async () => {
    // The run started an hour ago (its scan took that long); the lock is taken now.
    const taken = Date.UTC(2026, 11, 2, 1, 0);
    const lock = await acquireRunLock(store, { clock: () => taken });
    expect(await body(store)).toMatchObject({
      run_id: lock.runId,
      acquired_at: new Date(taken).toISOString(),
      expires_at: new Date(taken + LOCK_TTL_MS).toISOString(),
    });
    await lock.release();
    expect(await store.has(LOCK_KEY)).toBe(false);
  });

  it("is renewed as the run writes, so a long write is not taken over", async () => {
    let now = Date.UTC(2026, 11, 2, 1, 0);
    const lock = await acquireRunLock(store, { clock: () => now });
    now += LOCK_TTL_MS - 1000;
    await lock.renew();
    now += LOCK_TTL_MS - 1000; // past the first expiry, within the renewed one
    await expect(acquireRunLock(store, { clock: () => now })).rejects.toThrow(RunInProgressError);
    expect(await body(store)).toMatchObject({ run_id: lock.runId });
  });

  it("refuses a second run while it is held, naming when it expires", async () => {
    const lock = await acquireRunLock(store);
    const error = await acquireRunLock(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunInProgressError);
    expect((error as Error).message).toMatch(/another report run has been writing to .* since/);
    await lock.release();
    await acquireRunLock(store);
  });

  it("lets exactly one of several runs take over an expired lock", async () => {
    let now = Date.UTC(2026, 11, 2, 1, 0);
    await acquireRunLock(store, { clock: () => now }); // a run that crashed
    now += LOCK_TTL_MS + 1;
    const attempts = await Promise.allSettled(
      Array.from({ length: 6 }, () => acquireRunLock(store, { clock: () => now })),
    );
    const winners = attempts.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    expect(winners).toHaveLength(1);
    for (const a of attempts) {
      if (a.status === "rejected") expect(a.reason).toBeInstanceOf(RunInProgressError);
    }
    expect(await body(store)).toMatchObject({ run_id: winners[0]?.runId });
  });

  it("stops a run whose lock was taken over, and never releases the new holder's lock", async () => {
    let now = Date.UTC(2026, 11, 2, 1, 0);
    const first = await acquireRunLock(store, { clock: () => now });
    now += LOCK_TTL_MS + 1; // the first run stalled past its expiry
    const second = await acquireRunLock(store, { clock: () => now });
    await expect(first.renew()).rejects.toThrow(RunLockLostError);
    await first.release();
    expect(await body(store)).toMatchObject({ run_id: second.runId });
    await second.release();
    expect(await store.has(LOCK_KEY)).toBe(false);
  });

  it("holds a lock it cannot read until LOCK_TTL_MS after it was written", async () => {
    await store.put(LOCK_KEY, "", "application/json");
    await expect(acquireRunLock(store)).rejects.toThrow(RunInProgressError);
    const later = Date.now() + LOCK_TTL_MS + 1000;
    const lock = await acquireRunLock(store, { clock: () => later });
    expect(await body(store)).toMatchObject({ run_id: lock.runId });
  });

  it("expires LOCK_TTL_MS after it was written, even when it says it expires a year later", async () => {
    const written = Date.now();
    const yearAhead = new Date(written + 365 * 24 * 3_600_000).toISOString();
    await store.put(
      LOCK_KEY,
      JSON.stringify({ run_id: "clock-ahead", acquired_at: "x", expires_at: yearAhead }),
      "application/json",
    );
    const modifiedAt = (await store.get(LOCK_KEY))?.modifiedAt ?? Number.NaN;
    const held = await acquireRunLock(store).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(RunInProgressError);
    // It names the expiry it goes by (the store's write time + the lifetime), and no "since x".
    expect((held as Error).message).toContain(
      `its lock expires at ${new Date(modifiedAt + LOCK_TTL_MS).toISOString()}`,
    );
    expect((held as Error).message).toContain(`since ${new Date(modifiedAt).toISOString()}`);
    const later = Date.now() + LOCK_TTL_MS + 2000;
    const lock = await acquireRunLock(store, { clock: () => later });
    expect(await body(store)).toMatchObject({ run_id: lock.runId });
  });

  it("is never seen half-written by another run", async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireRunLock(store)),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(1);
    // Every loser read a whole lock: none took it for an empty, stale one.
    for (const a of attempts) {
      if (a.status === "rejected") expect(a.reason).toBeInstanceOf(RunInProgressError);
    }
  });
});
