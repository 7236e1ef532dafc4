import {
  IncompleteScanError,
  StorageError,
  UpstreamError,
  UsageReportError,
} from "../shared/errors.js";
import { RunInProgressError } from "../storage/run-lock.js";

/**
 * The errors a step of the state machine throws, by the name its `Retry` and `Catch` match
 * (Lambda reports a thrown error's `name` as its error type): a transient one is retried by
 * the state machine for that source alone; any other fails the source, and so the execution,
 * before Publish.
 */

/** Worth another attempt: a flaky upstream, a listing that moved too much, storage hiccups. */
export class StepTransientError extends UsageReportError {
  override readonly name = "StepTransientError";
}

/** Not worth another attempt: a setting, a permission, a bad answer that will not change. */
export class StepFailedError extends UsageReportError {
  override readonly name = "StepFailedError";
}

/** `error` as one of the two, its message prefixed by `what` (the source, the step). */
export function stepError(what: string, error: unknown): StepTransientError | StepFailedError {
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  const transient =
    (error instanceof UpstreamError && error.retryable) ||
    error instanceof IncompleteScanError ||
    error instanceof StorageError ||
    // Another run (a command line beside the schedule) holds the lock: try again later.
    error instanceof RunInProgressError;
  if (transient) return new StepTransientError(message, { cause: error });
  // A ConfigError or a refused request: the same input fails the same way.
  return new StepFailedError(message, { cause: error });
}
