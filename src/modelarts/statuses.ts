/** ModelArts training job status codes (modelarts-api.md, "Job statuses"). */
const STATUS_NAMES: readonly string[] = [
  "JOBSTAT_UNKNOWN",
  "JOBSTAT_INIT",
  "JOBSTAT_IMAGE_CREATING",
  "JOBSTAT_IMAGE_FAILED",
  "JOBSTAT_SUBMIT_TRYING",
  "JOBSTAT_SUBMIT_FAILED",
  "JOBSTAT_DELETE_FAILED",
  "JOBSTAT_WAITING",
  "JOBSTAT_RUNNING",
  "JOBSTAT_KILLING",
  "JOBSTAT_COMPLETED",
  "JOBSTAT_FAILED",
  "JOBSTAT_KILLED",
  "JOBSTAT_CANCELED",
  "JOBSTAT_LOST",
  "JOBSTAT_SCALING",
  "JOBSTAT_SUBMIT_MODEL_FAILED",
  "JOBSTAT_DEPLOY_SERVICE_FAILED",
  "JOBSTAT_CHECK_INIT",
  "JOBSTAT_CHECK_RUNNING",
  "JOBSTAT_CHECK_RUNNING_COMPLETED",
  "JOBSTAT_CHECK_FAILED",
];

/** The name of a status code; codes outside 0–21 are kept as `UNKNOWN_<code>`. */
export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `UNKNOWN_${status}`;
}

/** Statuses whose job is still going: its interval ends at report time (report.md §2). */
export const STILL_RUNNING_STATUSES: ReadonlySet<number> = new Set([8, 9, 15]);

export const DEFAULT_FAILURE_STATUSES: readonly number[] = [3, 5, 6, 13];

/** How a version's hours ended up (report.md §9), from its current status. */
export const OUTCOMES = ["completed", "failed", "lost", "cancelled", "running", "unknown"] as const;
export type Outcome = (typeof OUTCOMES)[number];

const OUTCOME_OF: ReadonlyMap<number, Outcome> = new Map([
  ...[10, 20].map((s) => [s, "completed"] as const),
  ...[3, 5, 6, 11, 16, 17, 21].map((s) => [s, "failed"] as const),
  [14, "lost"],
  ...[9, 12, 13].map((s) => [s, "cancelled"] as const),
  ...[1, 2, 4, 7, 8, 15, 18, 19].map((s) => [s, "running"] as const),
]);

/** The outcome of a status; 0 and codes nobody knows are `unknown`. */
export function outcomeOf(status: number): Outcome {
  return OUTCOME_OF.get(status) ?? "unknown";
}
