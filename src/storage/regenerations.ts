import { randomUUID } from "node:crypto";
import * as z from "zod";
import { StorageError, UsageReportError } from "../shared/errors.js";
import type { ReportStore } from "./store.js";

/**
 * The regenerations asked for through POST /reports that are queued or running, so that a
 * client retrying its POST cannot queue hours of scans ahead of the 00:30 run: while one
 * covers a date, another POST that overlaps it gets 409 with what is pending.
 *
 * One small object at the storage root, read and replaced with conditional writes (If-Match
 * on the ETag read, If-None-Match when there is none), so two API functions cannot both
 * claim the same dates. An entry ends when the run's Publish step has written its dates; one
 * whose execution failed stays until it expires (an execution, retries included, times out
 * within PENDING_TTL_MS), and an expired entry is dropped by the next claim.
 *
 * At most MAX_PENDING_REGENERATIONS are pending at once: without a cap, N distinct dates
 * queue N full scans ahead of the 00:30 run (one report run at a time), whose event could
 * then age out of its queue.
 */

export const REGENERATIONS_KEY = "regenerations.json";
/** Longer than an execution may run (its TimeoutSeconds, 55 minutes), with room to spare. */
export const PENDING_TTL_MS = 60 * 60_000;
const MAX_ATTEMPTS = 8;
/** Pending regenerations beyond which a POST is refused (429) until one has finished. */
export const MAX_PENDING_REGENERATIONS = 3;

const entrySchema = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  accepted_at: z.string(),
  expires_at: z.string(),
});
const documentSchema = z.object({ pending: z.array(entrySchema) });

export type PendingRegeneration = z.infer<typeof entrySchema>;

export class RegenerationPendingError extends UsageReportError {
  override readonly name = "RegenerationPendingError";
  readonly pending: readonly PendingRegeneration[];
  constructor(pending: readonly PendingRegeneration[]) {
    const first = pending[0];
    super(
      first === undefined
        ? "a regeneration of these dates is already queued or running"
        : `a regeneration of ${first.from}..${first.to} is already queued or running (accepted ${first.accepted_at}); try again after it has finished, at the latest ${first.expires_at}`,
    );
    this.pending = pending;
  }
}

/** As many regenerations as allowed are pending already; they are listed. */
export class RegenerationQueueFullError extends UsageReportError {
  override readonly name = "RegenerationQueueFullError";
  readonly pending: readonly PendingRegeneration[];
  constructor(pending: readonly PendingRegeneration[]) {
    super(
      `${pending.length} regenerations are already queued or running, the most at once; try again when one has finished`,
    );
    this.pending = pending;
  }
}

interface Current {
  readonly etag: string | null;
  readonly pending: PendingRegeneration[];
}

async function read(store: ReportStore): Promise<Current> {
  const object = await store.get(REGENERATIONS_KEY);
  if (object === undefined) return { etag: null, pending: [] };
  try {
    return {
      etag: object.etag,
      pending: documentSchema.parse(JSON.parse(object.body.toString("utf8"))).pending,
    };
  } catch {
    // Damaged by hand: the queue is advisory, so it starts afresh rather than blocking POSTs.
    return { etag: object.etag, pending: [] };
  }
}

async function write(
  store: ReportStore,
  current: Current,
  pending: PendingRegeneration[],
): Promise<boolean> {
  const body = `${JSON.stringify({ pending }, null, 2)}\n`;
  return (
    (await store.putIf(REGENERATIONS_KEY, body, "application/json", current.etag)) !== undefined
  );
}

const live = (now: number) => (e: PendingRegeneration) => Date.parse(e.expires_at) > now;

/**
 * Records a regeneration of `dates` (ascending) as pending and returns its entry; throws
 * RegenerationPendingError when a live one overlaps them, and RegenerationQueueFullError when
 * MAX_PENDING_REGENERATIONS others are live.
 */
export async function claimRegeneration(
  store: ReportStore,
  dates: readonly string[],
  now: number,
): Promise<PendingRegeneration> {
  const from = dates[0];
  const to = dates[dates.length - 1];
  if (from === undefined || to === undefined) throw new RangeError("no dates to regenerate");
  const entry: PendingRegeneration = {
    id: randomUUID(),
    from,
    to,
    accepted_at: new Date(now).toISOString(),
    expires_at: new Date(now + PENDING_TTL_MS).toISOString(),
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await read(store);
    const pending = current.pending.filter(live(now));
    const overlapping = pending.filter((e) => e.from <= to && from <= e.to);
    if (overlapping.length > 0) throw new RegenerationPendingError(overlapping);
    if (pending.length >= MAX_PENDING_REGENERATIONS) throw new RegenerationQueueFullError(pending);
    if (await write(store, current, [...pending, entry])) return entry;
  }
  throw new StorageError(`${REGENERATIONS_KEY} in ${store.url} kept changing; try again`);
}

/** Removes the entry `id` (when it is still there) once its dates are written. */
export async function finishRegeneration(
  store: ReportStore,
  id: string,
  now: number,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await read(store);
    if (!current.pending.some((e) => e.id === id)) return;
    const rest = current.pending.filter((e) => e.id !== id && live(now)(e));
    if (await write(store, current, rest)) return;
  }
  throw new StorageError(`${REGENERATIONS_KEY} in ${store.url} kept changing`);
}
