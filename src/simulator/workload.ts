/**
 * A seeded, made-up month of training jobs for the simulator: what a real team's ModelArts
 * project looks like (modelarts-api.md), including the awkward parts a report must survive —
 * jobs that cross midnight, still run, never started, failed in every way, carry only a
 * duration, or have names that are hostile to CSV, spreadsheets and HTML.
 *
 * Deterministic: the same options give the same records, byte for byte. No Math.random and no
 * clock reads; the caller passes `now`.
 */

import { mulberry32, Rng } from "./random.js";
import {
  base,
  type Ctx,
  DAY,
  type Draft,
  FLAVORS,
  HOUR,
  MINUTE,
  type RawVersion,
} from "./workload-catalog.js";
import { showcaseDrafts } from "./workload-showcase.js";

export { ODD_NAMES, type RawVersion } from "./workload-catalog.js";
export { mulberry32 };

export interface WorkloadOptions {
  /** How many versions to generate. */
  versions: number;
  seed: number;
  /** Epoch ms: no time in the workload is later than this. */
  now: number;
  /** How many days back create times reach; default 30. */
  days?: number;
}

/** Working hours (UTC) get most submissions; nights and weekends few. */
function submissionWeight(t: number): number {
  const date = new Date(t);
  const hour = date.getUTCHours();
  const weekday = date.getUTCDay();
  const byHour = hour >= 8 && hour < 19 ? 1 : hour === 7 || (hour >= 19 && hour < 22) ? 0.45 : 0.1;
  return weekday === 0 || weekday === 6 ? byHour * 0.3 : byHour;
}

function sampleCreateTime({ rng, now, windowStart }: Ctx): number {
  let t = now - 1;
  // Rejection sampling against the daily rhythm; 64 tries is far more than ever needed.
  for (let i = 0; i < 64; i++) {
    t = windowStart + Math.floor(rng.float() * (now - windowStart));
    if (rng.float() < submissionWeight(t)) break;
  }
  return t;
}

function sampleQueueWait(rng: Rng): number {
  const [min, max] = rng.weighted<readonly [number, number]>([
    [[5_000, 3 * MINUTE], 70],
    [[3 * MINUTE, HOUR], 25],
    [[HOUR, 8 * HOUR], 5],
  ]);
  return rng.logUniform(min, max);
}

/** From minutes to days: enough long runs that many cross one or more midnights. */
function sampleRunLength(rng: Rng): number {
  const [min, max] = rng.weighted<readonly [number, number]>([
    [[2 * MINUTE, 30 * MINUTE], 30],
    [[30 * MINUTE, 6 * HOUR], 40],
    [[6 * HOUR, DAY], 22],
    [[DAY, 4 * DAY], 8],
  ]);
  return rng.logUniform(min, max);
}

/** One job with a plausible life: queued, ran (or not), and ended (or not yet) before `now`. */
function randomDraft(ctx: Ctx): Draft {
  const { rng, now } = ctx;
  const flavor = rng.weighted(FLAVORS);
  const create = sampleCreateTime(ctx);
  const draft = base(ctx, flavor, create);

  // Failed before it could start: image build, submission, or the run itself (status 11).
  if (rng.float() < 0.04) {
    draft.status = rng.weighted([
      [3, 40],
      [5, 40],
      [11, 20],
    ]);
    // Half of them report when they failed; the others leave end_time 0.
    if (rng.float() < 0.5)
      draft.end_time = Math.min(now, create + rng.logUniform(10_000, 20 * MINUTE));
    return draft;
  }

  // A busy pool: a fair share of the last few hours' submissions are still in the queue.
  const stuck = create > now - 6 * HOUR && rng.float() < 0.2;
  const start = create + sampleQueueWait(rng);
  if (stuck || start >= now) {
    draft.status = rng.weighted([
      [7, 80],
      [1, 10],
      [2, 5],
      [4, 5],
    ]);
    return draft;
  }
  draft.start_time = start;

  const plannedEnd = start + sampleRunLength(rng);
  if (plannedEnd >= now) {
    draft.status = rng.weighted([
      [8, 90],
      [9, 5],
      [15, 5],
    ]);
    draft.duration = now - start;
    return draft;
  }

  const outcome = rng.weighted<"completed" | "duration-only" | 12 | 11 | 13 | 6 | 14>([
    ["completed", 66],
    ["duration-only", 3],
    [12, 11],
    [11, 9],
    [13, 5],
    [6, 3],
    [14, 1],
  ]);
  switch (outcome) {
    case "completed":
      return { ...draft, status: 10, end_time: plannedEnd, duration: plannedEnd - start };
    case "duration-only":
      return { ...draft, status: 10, duration: plannedEnd - start };
    case 14:
      // Lost: started, but the platform no longer knows when it ended.
      return { ...draft, status: 14 };
    default: {
      // Killed, failed or cancelled part way through the planned run.
      const end = start + Math.max(1_000, Math.floor((plannedEnd - start) * rng.float()));
      return { ...draft, status: outcome, end_time: end, duration: end - start };
    }
  }
}

/**
 * A month (by default) of training-job versions ending at `now`. Ids increase with
 * create_time but leave gaps, as a shared id sequence does.
 */
export function generateWorkload(opts: WorkloadOptions): RawVersion[] {
  const days = opts.days ?? 30;
  if (!Number.isSafeInteger(opts.versions) || opts.versions < 0) {
    throw new RangeError(`versions must be a non-negative integer, got ${opts.versions}`);
  }
  if (!Number.isSafeInteger(days) || days < 1) {
    throw new RangeError(`days must be a positive integer, got ${days}`);
  }
  if (!Number.isFinite(opts.now) || opts.now < days * DAY) {
    throw new RangeError(`now must be an epoch time in ms, got ${opts.now}`);
  }
  const now = Math.floor(opts.now);
  const ctx: Ctx = { rng: new Rng(opts.seed), now, windowStart: now - days * DAY };

  const drafts = showcaseDrafts(ctx).slice(0, opts.versions);
  while (drafts.length < opts.versions) drafts.push(randomDraft(ctx));

  // Stable sort keeps equal create times in generation order, so ids stay deterministic.
  drafts.sort((a, b) => a.create_time - b.create_time);
  let id = 1_000_000 + ctx.rng.int(0, 99_999);
  return drafts.map((draft) => {
    id += ctx.rng.int(1, 6);
    return { version_id: id, ...draft };
  });
}
