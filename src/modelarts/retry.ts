import { setTimeout as sleepFor } from "node:timers/promises";
import { UpstreamError, UpstreamHttpError } from "../shared/errors.js";

/**
 * The retry policy for upstream calls: exponential backoff with full jitter, Retry-After
 * honoured, a bounded number of attempts and a total time budget, so that a run against an
 * API that keeps failing gives up in minutes and fits in the Lambda timeout.
 *
 * Hand-written rather than p-retry: p-retry's jitter is not "full jitter", it cannot take a
 * per-error delay (Retry-After), and the whole policy is ~40 lines.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No new attempt starts once this much time has passed since the first. */
  readonly budgetMs: number;
  /**
   * An absolute end (epoch ms) no attempt may go past, e.g. the Lambda timeout less a margin:
   * the whole run's budget, shared by all its requests.
   */
  readonly deadline?: number | undefined;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  budgetMs: 5 * 60_000,
};

export interface RetryHooks {
  /** Waits `ms`, or rejects as soon as `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  random?: () => number;
  clock?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; error: UpstreamError }) => void;
}

const defaultSleep = (ms: number, signal: AbortSignal | undefined) =>
  sleepFor(ms, undefined, signal === undefined ? {} : { signal });

/** The delay before attempt `attempt + 1` (attempt counts from 1). */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: UpstreamError,
  random: () => number,
): number {
  if (error instanceof UpstreamHttpError && error.retryAfterSeconds !== undefined) {
    return Math.min(error.retryAfterSeconds * 1000, policy.maxDelayMs * 3);
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `operation` until it succeeds, fails for good, or the policy says stop. With `signal`,
 * an abort (the scan failed elsewhere) ends it at once, between attempts or during a wait,
 * with the signal's reason; the operation should pass the signal on to its request.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  hooks: RetryHooks = {},
  signal?: AbortSignal,
): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  const random = hooks.random ?? Math.random;
  const clock = hooks.clock ?? Date.now;
  const started = clock();
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      signal?.throwIfAborted();
      if (!(error instanceof UpstreamError) || !error.retryable || attempt >= policy.maxAttempts) {
        throw error;
      }
      const delayMs = retryDelay(policy, attempt, error, random);
      const resumeAt = clock() + delayMs;
      if (resumeAt - started > policy.budgetMs) throw error;
      if (policy.deadline !== undefined && resumeAt >= policy.deadline) throw error;
      hooks.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}
