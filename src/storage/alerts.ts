import * as z from "zod";
import type { AlertCandidate } from "../report/alert-rules.js";
import { StorageError } from "../shared/errors.js";
import type { ReportStore } from "./store.js";

/**
 * `alerts.json` at the storage root (report.md §11): the alerts raised, newest first, the last
 * 100, and the ids of those ever raised (the last 5 000), so each is raised **once**: a rerun,
 * a regeneration or a retried execution that finds the same thing adds nothing. Read and
 * replaced with conditional writes (If-Match on the ETag read, If-None-Match when there is
 * none), so two runs raising at once never both raise one alert.
 */

export const ALERTS_KEY = "alerts.json";
const MAX_ALERTS = 100;
const MAX_SENT = 5000;
const MAX_ATTEMPTS = 8;

const alert = z.object({
  id: z.string(),
  kind: z.enum(["budget", "failures", "run_failed"]),
  period: z.string(),
  budget: z.string().nullable(),
  state: z.string().nullable(),
  value: z.number(),
  limit: z.number().nullable(),
  raised_at: z.string(),
  message: z.string(),
});
export type Alert = z.infer<typeof alert>;
const document = z.object({ alerts: z.array(alert), sent: z.array(z.string()).default([]) });
type Document = z.infer<typeof document>;

async function read(
  store: ReportStore,
): Promise<{ etag: string | null; alerts: Alert[]; sent: string[] }> {
  const object = await store.get(ALERTS_KEY);
  if (object === undefined) return { etag: null, alerts: [], sent: [] };
  const parsed = document.safeParse(
    (() => {
      try {
        return JSON.parse(object.body.toString("utf8"));
      } catch {
        return undefined;
      }
    })(),
  );
  if (!parsed.success) {
    // A damaged file is input like any other: refuse it rather than raise everything again.
    throw new StorageError(`${ALERTS_KEY} in ${store.url} is not an alerts file`);
  }
  return { etag: object.etag, ...parsed.data };
}

/** The alerts stored, newest first. */
export async function readAlerts(store: ReportStore): Promise<Alert[]> {
  return (await read(store)).alerts;
}

/** Whether `id` (an alert's, or a message's such as `digest:<day>`) was ever marked sent. */
export async function wasSent(store: ReportStore, id: string): Promise<boolean> {
  return (await read(store)).sent.includes(id);
}

/**
 * Replaces the file with what `change` makes of it, by a conditional write on what was read;
 * read again and retried when another writer came first. `change` gives a `null` body
 * when there is nothing to write.
 */
async function update<T>(
  store: ReportStore,
  change: (current: Document) => { body: Document | null; result: T },
): Promise<T> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await read(store);
    const made = change(current);
    if (made.body === null) return made.result;
    const body: Document = {
      alerts: made.body.alerts.slice(0, MAX_ALERTS),
      sent: made.body.sent.slice(-MAX_SENT),
    };
    const written = await store.putIf(
      ALERTS_KEY,
      `${JSON.stringify(body, null, 2)}\n`,
      "application/json; charset=utf-8",
      current.etag,
    );
    if (written !== undefined) return made.result;
  }
  throw new StorageError(`${ALERTS_KEY} in ${store.url} kept changing; try again`);
}

/**
 * Marks `id` sent (a message that is no alert, such as the day's digest, sent once); `false`
 * when it already was.
 */
export function markSent(store: ReportStore, id: string): Promise<boolean> {
  return update(store, (current) =>
    current.sent.includes(id)
      ? { body: null, result: false }
      : { body: { alerts: current.alerts, sent: [...current.sent, id] }, result: true },
  );
}

/**
 * Raises the candidates not raised before (by id), stamped `now`, and returns those: what a
 * digest or a notification may announce.
 */
export async function raiseAlerts(
  store: ReportStore,
  candidates: readonly AlertCandidate[],
  now: number,
): Promise<Alert[]> {
  if (candidates.length === 0) return [];
  return update(store, (current) => {
    const sent = new Set(current.sent);
    const fresh: Alert[] = [];
    for (const c of candidates) {
      if (sent.has(c.id)) continue;
      sent.add(c.id);
      fresh.push({ ...c, raised_at: new Date(now).toISOString() });
    }
    if (fresh.length === 0) return { body: null, result: fresh };
    return {
      body: { alerts: [...[...fresh].reverse(), ...current.alerts], sent: [...sent] },
      result: fresh,
    };
  });
}
