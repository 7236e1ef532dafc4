/** The fixed cases every workload holds, whatever the seed (see `generateWorkload`). */
import {
  base,
  type Ctx,
  DAY,
  type Draft,
  FLAVORS,
  flavorByCode,
  HOUR,
  MINUTE,
  ODD_NAMES,
  POOL_ASCEND,
} from "./workload-catalog.js";

/** Builders of showcase jobs relative to the workload's `now` and period. */
interface Shapers {
  /** `ms` before now, but never before the period starts (short periods squeeze the cases). */
  ago(ms: number): number;
  job(flavorCode: string, create: number, patch: Partial<Draft>): Draft;
  /** A run that started `wait` after `create` and lasted `run`, cut short at `now`. */
  ran(status: number, create: number, wait: number, run: number): Partial<Draft>;
  running(status: number, create: number, wait: number): Partial<Draft>;
}

function shapers(ctx: Ctx): Shapers {
  const { now, windowStart } = ctx;
  return {
    ago: (ms) => Math.max(windowStart, now - ms),
    job: (flavorCode, create, patch) => ({
      ...base(ctx, flavorByCode(flavorCode), create),
      ...patch,
    }),
    ran: (status, create, wait, run) => {
      const start = Math.min(create + wait, now - 1);
      const end = Math.min(start + run, now);
      return { status, start_time: start, end_time: end, duration: end - start };
    },
    running: (status, create, wait) => {
      const start = Math.min(create + wait, now);
      return { status, start_time: start, duration: now - start };
    },
  };
}

/** Jobs still going, never started, and failed in every way. */
function unfinishedAndFailed(ctx: Ctx, { ago, job, ran, running }: Shapers): Draft[] {
  const { rng, now } = ctx;
  const drafts: Draft[] = [];
  // Still going: running for two days, being cancelled, scaling.
  drafts.push(
    job("modelarts.p3.large.8", ago(2 * DAY + 4 * HOUR), running(8, ago(2 * DAY + 4 * HOUR), HOUR)),
  );
  for (const status of [9, 15]) {
    const create = ago(rng.int(1, 10) * HOUR);
    drafts.push(job("modelarts.bm.npu.arm.8snt9b3.d", create, running(status, create, 2 * MINUTE)));
  }
  // Never started: queued and initialising.
  drafts.push(job("modelarts.p3.8xlarge", ago(20 * MINUTE), { status: 7 }));
  drafts.push(job("modelarts.p1.2xlarge", ago(3 * MINUTE), { status: 1 }));
  // Failures in every status of the default failure set, and run failures (11) both ways.
  drafts.push(job("modelarts.p1.2xlarge", ago(5 * DAY), { status: 3 }));
  drafts.push(
    job("modelarts.p3.4xlarge", ago(4 * DAY), {
      status: 5,
      end_time: Math.min(now, ago(4 * DAY) + 40_000),
    }),
  );
  drafts.push(
    job("modelarts.p3.4xlarge", ago(6 * DAY), ran(6, ago(6 * DAY), 2 * MINUTE, 3 * HOUR)),
  );
  drafts.push(
    job("modelarts.vm.npu.1snt9b3", ago(3 * DAY), ran(13, ago(3 * DAY), MINUTE, 50 * MINUTE)),
  );
  drafts.push(job("modelarts.p3.8xlarge", ago(2 * DAY), { status: 11 }));
  drafts.push(
    job("modelarts.p3.8xlarge", ago(7 * DAY), ran(11, ago(7 * DAY), 5 * MINUTE, 9 * HOUR)),
  );
  return drafts;
}

/** Completed jobs with awkward shapes: duration only, across midnight, odd names. */
function completed(ctx: Ctx, { ago, job, ran }: Shapers): Draft[] {
  const { rng, now, windowStart } = ctx;
  const drafts: Draft[] = [];
  // Only a duration: no end_time, so the end is start + duration.
  drafts.push(
    job("modelarts.p1.2xlarge", ago(8 * DAY), {
      ...ran(10, ago(8 * DAY), MINUTE, 2 * HOUR),
      end_time: 0,
    }),
  );
  // Completed across midnight UTC, 22:26 to 02:15, on the latest such night before `now`.
  {
    const midnight = Math.floor((now - 3 * HOUR) / DAY) * DAY;
    const create = Math.max(windowStart, midnight - 94 * MINUTE);
    drafts.push(
      job(
        "modelarts.p3.4xlarge",
        create,
        ran(10, create, 4 * MINUTE, midnight + 135 * MINUTE - create - 4 * MINUTE),
      ),
    );
  }
  drafts.push(
    job("modelarts.p3.8xlarge", ago(9 * DAY), ran(12, ago(9 * DAY), 10 * MINUTE, 70 * MINUTE)),
  );
  drafts.push(
    job("modelarts.vm.cpu.8u", ago(10 * DAY), ran(10, ago(10 * DAY), 30_000, 25 * MINUTE)),
  );
  drafts.push(
    job("modelarts.bm.npu.arm.8snt9b3.d", ago(11 * DAY), {
      ...ran(10, ago(11 * DAY), 4 * MINUTE, 30 * HOUR),
      pool_id: POOL_ASCEND,
    }),
  );
  drafts.push(
    job("modelarts.p1.2xlarge", ago(12 * DAY), {
      ...ran(10, ago(12 * DAY), MINUTE, 40 * MINUTE),
      pool_id: null,
    }),
  );
  // Every odd name once, on ordinary completed jobs spread over the period.
  for (const name of ODD_NAMES) {
    const run = rng.logUniform(5 * MINUTE, 5 * HOUR);
    const create =
      windowStart + Math.floor(rng.float() * Math.max(0, now - windowStart - run - 2 * MINUTE));
    const flavor = rng.weighted(FLAVORS);
    drafts.push(job(flavor.code, create, { ...ran(10, create, MINUTE, run), version_name: name }));
  }
  return drafts;
}

/**
 * Records every workload has (when `versions` allows), so that tests and demos always meet
 * each case at least once, whatever the seed.
 */
export function showcaseDrafts(ctx: Ctx): Draft[] {
  const shape = shapers(ctx);
  // In this order: the draws from the seeded generator make the records.
  return [...unfinishedAndFailed(ctx, shape), ...completed(ctx, shape)];
}
