import { randomUUID } from "node:crypto";
import { z } from "zod";
import { UsageReportError } from "../errors.js";
import type { Log } from "../log.js";
import type { ReportStore } from "./store.js";

/**
 * One report run at a time per storage root, so two overlapping runs cannot leave a date with
 * files from both. In AWS the report function's reserved concurrency of 1 already serialises
 * runs; this lock covers everything else (a CLI run beside the schedule, two terminals). It is
 * an object created only if absent; a lock older than its expiry (a run that crashed) is taken
 * over.
 */

export const LOCK_KEY = "run.lock";
/** Longer than the Lambda timeout (15 min), so a live run's lock is never taken over. */
export const LOCK_TTL_MS = 20 * 60_000;

const lockBody = z.object({ run_id: z.string(), started_at: z.string(), expires_at: z.string() });

export class RunInProgressError extends UsageReportError {
  override readonly name = "RunInProgressError";
}

export interface RunLock {
  readonly runId: string;
  release(): Promise<void>;
}

export async function acquireRunLock(store: ReportStore, now: number, log?: Log): Promise<RunLock> {
  const runId = randomUUID();
  const body = JSON.stringify({
    run_id: runId,
    started_at: new Date(now).toISOString(),
    expires_at: new Date(now + LOCK_TTL_MS).toISOString(),
  });
  if (!(await store.putIf(LOCK_KEY, body, "application/json", null))) {
    const existing = await store.get(LOCK_KEY);
    let held: z.infer<typeof lockBody> | undefined;
    try {
      held = lockBody.parse(JSON.parse(existing?.body.toString("utf8") ?? "null"));
    } catch {
      held = undefined; // unreadable: treat as stale
    }
    if (held !== undefined && Date.parse(held.expires_at) > now) {
      throw new RunInProgressError(
        `another report run has been writing to ${store.url} since ${held.started_at}; try again after it ends (its lock expires at ${held.expires_at})`,
      );
    }
    log?.warn("taking over a stale run lock", { heldSince: held?.started_at });
    await store.put(LOCK_KEY, body, "application/json");
  }
  return {
    runId,
    release: async () => {
      const current = await store.get(LOCK_KEY);
      if (current?.body.toString("utf8").includes(runId)) await store.delete(LOCK_KEY);
    },
  };
}
