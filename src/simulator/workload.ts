/**
 * A seeded, made-up month of training jobs for the simulator: what a real team's ModelArts
 * project looks like (modelarts-api.md), including the awkward parts a report must survive —
 * jobs that cross midnight, still run, never started, failed in every way, carry only a
 * duration, or have names that are hostile to CSV, spreadsheets and HTML.
 *
 * Deterministic: the same options give the same records, byte for byte. No Math.random and no
 * clock reads; the caller passes `now`.
 */

/** One element of the listing's `versions` array, exactly as the API sends it (snake_case). */
export interface RawVersion {
  version_id: number;
  version_name: string;
  status: number;
  /** Epoch ms. */
  create_time: number;
  /** Epoch ms; 0 when the version never started. */
  start_time: number;
  /** Epoch ms; 0 while running or when it never ran. */
  end_time: number;
  /** Run time in ms; grows while running; 0 when none. */
  duration: number;
  version_desc: string | null;
  /** `null`: the public pool. */
  pool_id: string | null;
  flavor_code: string;
  gpu_num: number;
  npu_num: number;
}

export interface WorkloadOptions {
  /** How many versions to generate. */
  versions: number;
  seed: number;
  /** Epoch ms: no time in the workload is later than this. */
  now: number;
  /** How many days back create times reach; default 30. */
  days?: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** mulberry32: small, fast and good enough to make test data; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  float(): number {
    return this.#next();
  }
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  /** Log-uniform in [min, max): as many short values per decade as long ones. */
  logUniform(min: number, max: number): number {
    return Math.floor(Math.exp(Math.log(min) + this.#next() * (Math.log(max) - Math.log(min))));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.#next() * items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.#next() * total;
    for (const [item, w] of items) {
      roll -= w;
      if (roll < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new RangeError("weighted pick from an empty list");
    return last[0];
  }
}

const POOL_GPU_TRAIN = "pool-7c1e2a9b";
const POOL_GPU_SHARED = "pool-3f8d41c0";
const POOL_ASCEND = "pool-b52e6a17";

interface Flavor {
  readonly code: string;
  readonly gpu: number;
  readonly npu: number;
  /** Pools this flavor is run in; `null` is the public pool. Repeats weight the choice. */
  readonly pools: readonly (string | null)[];
}

/** Weighted: small GPU jobs are the most common, 8-card jobs the rarest but the costliest. */
const FLAVORS: readonly (readonly [Flavor, number])[] = [
  [{ code: "modelarts.p1.2xlarge", gpu: 1, npu: 0, pools: [null, null, POOL_GPU_SHARED] }, 26],
  [{ code: "modelarts.p3.4xlarge", gpu: 2, npu: 0, pools: [POOL_GPU_SHARED, POOL_GPU_TRAIN] }, 16],
  [
    { code: "modelarts.p3.8xlarge", gpu: 4, npu: 0, pools: [POOL_GPU_TRAIN, POOL_GPU_TRAIN, null] },
    11,
  ],
  [{ code: "modelarts.p3.large.8", gpu: 8, npu: 0, pools: [POOL_GPU_TRAIN] }, 6],
  [
    {
      code: "modelarts.bm.npu.arm.8snt9b3.d",
      gpu: 0,
      npu: 8,
      pools: [POOL_ASCEND, POOL_ASCEND, null],
    },
    9,
  ],
  [{ code: "modelarts.vm.npu.1snt9b3", gpu: 0, npu: 1, pools: [POOL_ASCEND, null] }, 8],
  [{ code: "modelarts.vm.cpu.8u", gpu: 0, npu: 0, pools: [null] }, 14],
];

function flavorByCode(code: string): Flavor {
  const found = FLAVORS.find(([f]) => f.code === code);
  if (found === undefined) throw new RangeError(`unknown flavor ${code}`);
  return found[0];
}

const MODELS = [
  "bert-base-finetune",
  "resnet50-imagenet",
  "yolov8-detect",
  "llama2-7b-sft",
  "whisper-small-asr",
  "vit-b16-pretrain",
  "unet-seg-medical",
  "t5-summarize",
  "pangu-alpha-eval",
  "sd-lora-products",
  "dlrm-recsys",
] as const;

/**
 * Names users really type, and names an attacker would: each one breaks something if a
 * report handles it naively (CSV quoting, spreadsheet formulas, HTML escaping, encodings).
 */
export const ODD_NAMES: readonly string[] = [
  "训练任务-中文名称",
  "モデル学習_テスト",
  "Ünïcödé-ñame-ğ",
  "🚀 launch-run 🔥",
  "loss,acc,f1",
  'say "hello"',
  "it's a job",
  "line one\nline two",
  "crlf\r\nname",
  "=SUM(A1:A9)",
  "+cmd|' /C calc'!A0",
  "-2+3",
  "@SUM(1,2)",
  "\tleading-tab",
  "<script>alert(1)</script>",
  "a & b <c> 'd'",
  "   spaced   ",
  "",
];

const DESCRIPTIONS: readonly (string | null)[] = [
  null,
  null,
  null,
  "nightly retrain",
  "hyper-parameter sweep",
  "baseline; lr=3e-4",
  "ablation: no dropout",
  "",
];

/** Working hours (UTC) get most submissions; nights and weekends few. */
function submissionWeight(t: number): number {
  const date = new Date(t);
  const hour = date.getUTCHours();
  const weekday = date.getUTCDay();
  const byHour = hour >= 8 && hour < 19 ? 1 : hour === 7 || (hour >= 19 && hour < 22) ? 0.45 : 0.1;
  return weekday === 0 || weekday === 6 ? byHour * 0.3 : byHour;
}

/** A draft of a record before ids are assigned (ids follow create_time). */
type Draft = Omit<RawVersion, "version_id">;

interface Ctx {
  readonly rng: Rng;
  readonly now: number;
  readonly windowStart: number;
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

function sampleName(rng: Rng, flavor: Flavor): string {
  if (rng.float() < 0.03) return rng.pick(ODD_NAMES);
  const model = flavor.gpu === 0 && flavor.npu === 0 ? "xgboost-baseline" : rng.pick(MODELS);
  return `${model}-v${rng.int(1, 40)}`;
}

function base(ctx: Ctx, flavor: Flavor, create: number): Draft {
  return {
    version_name: sampleName(ctx.rng, flavor),
    status: 0,
    create_time: create,
    start_time: 0,
    end_time: 0,
    duration: 0,
    version_desc: ctx.rng.pick(DESCRIPTIONS),
    pool_id: ctx.rng.pick(flavor.pools),
    flavor_code: flavor.code,
    gpu_num: flavor.gpu,
    npu_num: flavor.npu,
  };
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
 * Records every workload has (when `versions` allows), so that tests and demos always meet
 * each case at least once, whatever the seed.
 */
function showcaseDrafts(ctx: Ctx): Draft[] {
  const { rng, now, windowStart } = ctx;
  /** `ms` before now, but never before the period starts (short periods squeeze the cases). */
  const ago = (ms: number): number => Math.max(windowStart, now - ms);
  const job = (flavorCode: string, create: number, patch: Partial<Draft>): Draft => ({
    ...base(ctx, flavorByCode(flavorCode), create),
    ...patch,
  });
  /** A run that started `wait` after `create` and lasted `run`, cut short at `now`. */
  const ran = (status: number, create: number, wait: number, run: number): Partial<Draft> => {
    const start = Math.min(create + wait, now - 1);
    const end = Math.min(start + run, now);
    return { status, start_time: start, end_time: end, duration: end - start };
  };
  const running = (status: number, create: number, wait: number): Partial<Draft> => {
    const start = Math.min(create + wait, now);
    return { status, start_time: start, duration: now - start };
  };
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
