import { emptyVersion, type JobVersion } from "../../src/modelarts/version-record.js";

export const HOUR = 3_600_000;

/** A job version with harmless defaults, for hand-written fixtures. */
export function version(partial: Partial<JobVersion> & { versionId: number }): JobVersion {
  return { ...emptyVersion(), versionName: `job-${partial.versionId}`, status: 10, ...partial };
}

/** The same version in the API's raw JSON shape, as the simulator serves it. */
export function rawVersion(v: JobVersion): Record<string, unknown> {
  return {
    version_id: v.versionId,
    version_name: v.versionName,
    status: v.status,
    create_time: v.createTime,
    start_time: v.startTime,
    end_time: v.endTime,
    duration: v.duration,
    version_desc: null,
    pool_id: v.poolId,
    flavor_code: v.flavorCode,
    gpu_num: v.gpuNum,
    npu_num: v.npuNum,
  };
}
