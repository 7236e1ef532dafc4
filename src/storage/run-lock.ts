import { randomUUID } from "node:crypto";
import * as z from "zod";
import { UsageReportError } from "../shared/errors.js";
import { type Log, silentLog } from "../shared/log.js";
import type { ReportStore } from "./store.js";

/**
 * One report run at a time per storage root, so two overlapping runs cannot leave a date with
 * files from both. In AWS the Publish step's reserved concurrency of 1 already serialises
 * publishing; this lock covers everything else (a CLI run beside the schedule, two terminals, a
 * retry of a run that was cut off).
 *
 * Every step is a conditional write on what was read, so two runs can never both hold it:
 * - taken by creating `run.lock` only if absent (written whole, atomically);
 * - a lock whose expiry has passed (its run crashed) is taken over only by a write
 *   conditional on the ETag of the lock that was read: of two runs that saw it stale, one wins;
 * - it expires LOCK_TTL_MS after it was taken or last renewed (not after the run started: a
 *   long scan happens before the lock is taken), and the run renews it as it writes;
 * - renewing, and releasing, are conditional on the lock still being the one this run wrote:
 *   a run whose lock was taken over stops writing and never deletes the new holder's lock.
 * A lock expires at its `expires_at`, or LOCK_TTL_MS after the store last wrote it if that is
 * sooner: its `expires_at` is the writer's clock, which may run ahead (see lockExpiry). A lock
 * that cannot be read (edited by hand) is held until LOCK_TTL_MS after it was written.
 */

export const LOCK_KEY = "run.lock";
/** Longer than the Lambda timeout (15 min), so a live run's lock is never taken over. */
export const LOCK_TTL_MS = 20 * 60_000;
const CONTENT_TYPE = "application/json";

const lockBody = z.object({
  run_id: z.string(),
  expires_at: z.string(),
  acquired_at: z.string().optional(),
  /** What the first release wrote instead of acquired_at. */
  started_at: z.string().optional(),
});

export class RunInProgressError extends UsageReportError {
  override readonly name = "RunInProgressError";
}

/** Another run took the lock over: this run must stop writing. */
export class RunLockLostError extends UsageReportError {
  override readonly name = "RunLockLostError";
}

export interface RunLock {
  readonly runId: string;
  /** Extends the lock by LOCK_TTL_MS from now; throws RunLockLostError if it is not ours now. */
  renew(): Promise<void>;
  /** Removes the lock if it is still ours; never someone else's. */
  release(): Promise<void>;
}

export interface RunLockOptions {
  /** Epoch ms; the lock's times are taken from it when it is written, not from the run's start. */
  readonly clock?: () => number;
  readonly ttlMs?: number;
  readonly log?: Log | undefined;
}

/** Epoch ms of an ISO time, or `undefined` when it is not one. */
function validTime(text: string | undefined): number | undefined {
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * When a lock read from storage expires: what it says, but never later than `ttlMs` after the
 * store last wrote it (S3's Last-Modified, by the server's clock; a file's mtime). A writer
 * whose clock runs ahead, or a hand edit, can then block runs for one lifetime at most, not
 * until its `expires_at`; a lock that says nothing readable is held for that lifetime.
 */
export function lockExpiry(stated: string | undefined, modifiedAt: number, ttlMs: number): number {
  return Math.min(validTime(stated) ?? Number.POSITIVE_INFINITY, modifiedAt + ttlMs);
}

export async function acquireRunLock(
  store: ReportStore,
  opts: RunLockOptions = {},
): Promise<RunLock> {
  const clock = opts.clock ?? Date.now;
  const ttl = opts.ttlMs ?? LOCK_TTL_MS;
  const log = opts.log ?? silentLog;
  const runId = randomUUID();
  const acquiredAt = new Date(clock()).toISOString();
  const body = () =>
    JSON.stringify({
      run_id: runId,
      acquired_at: acquiredAt,
      expires_at: new Date(clock() + ttl).toISOString(),
    });

  let etag: string | undefined;
  for (let attempt = 0; etag === undefined; attempt++) {
    if (attempt >= 3) {
      throw new RunInProgressError(`the run lock of ${store.url} kept changing hands; try again`);
    }
    etag = await store.putIf(LOCK_KEY, body(), CONTENT_TYPE, null);
    if (etag !== undefined) break;
    const existing = await store.get(LOCK_KEY);
    if (existing === undefined) continue; // released in between: try to create it again
    let held: z.infer<typeof lockBody> | undefined;
    try {
      held = lockBody.parse(JSON.parse(existing.body.toString("utf8")));
    } catch {
      held = undefined;
    }
    const expiresAt = lockExpiry(held?.expires_at, existing.modifiedAt, ttl);
    if (expiresAt > clock()) {
      const since = new Date(
        Math.min(
          validTime(held?.acquired_at ?? held?.started_at) ?? existing.modifiedAt,
          existing.modifiedAt,
        ),
      ).toISOString();
      throw new RunInProgressError(
        `another report run has been writing to ${store.url} since ${since}; try again after it ends (its lock expires at ${new Date(expiresAt).toISOString()})`,
      );
    }
    log.warn("taking over a stale run lock", {
      heldSince: held?.acquired_at ?? held?.started_at ?? null,
    });
    etag = await store.putIf(LOCK_KEY, body(), CONTENT_TYPE, existing.etag);
  }

  let current: string = etag;
  return {
    runId,
    async renew() {
      const next = await store.putIf(LOCK_KEY, body(), CONTENT_TYPE, current);
      if (next === undefined) {
        throw new RunLockLostError(
          `another run took over the run lock of ${store.url}; this run stopped writing (latest.json was not changed by it)`,
        );
      }
      current = next;
    },
    async release() {
      if (!(await store.deleteIf(LOCK_KEY, current))) {
        log.warn("the run lock was no longer ours to release", { runId });
      }
    },
  };
}
