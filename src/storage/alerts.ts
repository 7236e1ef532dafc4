import * as z from "zod";
import type { AlertCandidate } from "../report/alert-rules.js";
import { StorageError } from "../shared/errors.js";
import type { ReportStore } from "./store.js";

/**
 * `alerts.json` at the storage root (report.md §11): the alerts raised, newest first, the last
 * 100; `sent`, the ids of those ever raised and of the digests sent (the last 5 000), so each
 * is raised **once**: a rerun, a regeneration or a retried execution that finds the same thing
 * adds nothing; and `unsent`, the alerts raised but not yet told (a message that could not be
 * sent is told by the next run that can). Read and replaced with conditional writes (If-Match
 * on the ETag read, If-None-Match when there is none), so two runs raising at once never both
 * raise one alert.
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
const document = z.object({
  alerts: z.array(alert),
  sent: z.array(z.string()).default([]),
  unsent: z.array(z.string()).default([]),
});
type Document = z.infer<typeof document>;

async function read(store: ReportStore): Promise<Document & { etag: string | null }> {
  const object = await store.get(ALERTS_KEY);
  if (object === undefined) return { etag: null, alerts: [], sent: [], unsent: [] };
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

/** The alerts raised but not told yet, oldest first (of the 100 kept). */
export async function unsentAlerts(store: ReportStore): Promise<Alert[]> {
  const { alerts, unsent } = await read(store);
  const waiting = new Set(unsent);
  return alerts.filter((a) => waiting.has(a.id)).reverse();
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
    const alerts = made.body.alerts.slice(0, MAX_ALERTS);
    const kept = new Set(alerts.map((a) => a.id));
    const body: Document = {
      alerts,
      sent: made.body.sent.slice(-MAX_SENT),
      // Only what can still be told: an alert no longer kept has no message left to send.
      unsent: made.body.unsent.filter((id) => kept.has(id)),
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
 * Marks `id` sent (a message that is no alert, such as the day's digest, sent once), and the
 * alerts `told` in it as told; `false` when `id` already was sent.
 */
export function markSent(
  store: ReportStore,
  id: string,
  told: readonly string[] = [],
): Promise<boolean> {
  return update(store, (current) => {
    const marked = !current.sent.includes(id);
    const unsent = current.unsent.filter((u) => !told.includes(u));
    if (!marked && unsent.length === current.unsent.length) return { body: null, result: false };
    const sent = marked ? [...current.sent, id] : current.sent;
    return { body: { ...current, sent, unsent }, result: marked };
  });
}

/** Marks the alerts `told` (sent in a message of their own) as told. */
export function markTold(store: ReportStore, told: readonly string[]): Promise<void> {
  return update(store, (current) => {
    const unsent = current.unsent.filter((u) => !told.includes(u));
    return unsent.length === current.unsent.length
      ? { body: null, result: undefined }
      : { body: { ...current, unsent }, result: undefined };
  });
}

/**
 * Raises the candidates not raised before (by id), stamped `now`, and returns those: what a
 * digest or a notification may announce. They wait in `unsent` until told.
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
    const unsent = [...current.unsent, ...fresh.map((a) => a.id)];
    return {
      body: { alerts: [...[...fresh].reverse(), ...current.alerts], sent: [...sent], unsent },
      result: fresh,
    };
  });
}
