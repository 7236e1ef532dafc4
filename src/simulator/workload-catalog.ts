/**
 * What the made-up workload is made of: the record's shape, the flavors and pools, model
 * names, hostile names and descriptions, and the common part of every drafted job.
 */
import type { Rng } from "./random.js";

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

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const POOL_GPU_TRAIN = "pool-7c1e2a9b";
const POOL_GPU_SHARED = "pool-3f8d41c0";
export const POOL_ASCEND = "pool-b52e6a17";

export interface Flavor {
  readonly code: string;
  readonly gpu: number;
  readonly npu: number;
  /** Pools this flavor is run in; `null` is the public pool. Repeats weight the choice. */
  readonly pools: readonly (string | null)[];
}

/** Weighted: small GPU jobs are the most common, 8-card jobs the rarest but the costliest. */
export const FLAVORS: readonly (readonly [Flavor, number])[] = [
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

export function flavorByCode(code: string): Flavor {
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

/** A draft of a record before ids are assigned (ids follow create_time). */
export type Draft = Omit<RawVersion, "version_id">;

export interface Ctx {
  readonly rng: Rng;
  readonly now: number;
  readonly windowStart: number;
}

function sampleName(rng: Rng, flavor: Flavor): string {
  if (rng.float() < 0.03) return rng.pick(ODD_NAMES);
  const model = flavor.gpu === 0 && flavor.npu === 0 ? "xgboost-baseline" : rng.pick(MODELS);
  return `${model}-v${rng.int(1, 40)}`;
}

export function base(ctx: Ctx, flavor: Flavor, create: number): Draft {
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
