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
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await read(store);
    const sent = new Set(current.sent);
    const fresh: Alert[] = [];
    for (const c of candidates) {
      if (sent.has(c.id)) continue;
      sent.add(c.id);
      fresh.push({ ...c, raised_at: new Date(now).toISOString() });
    }
    if (fresh.length === 0) return [];
    const body = {
      alerts: [...[...fresh].reverse(), ...current.alerts].slice(0, MAX_ALERTS),
      sent: [...sent].slice(-MAX_SENT),
    };
    const written = await store.putIf(
      ALERTS_KEY,
      `${JSON.stringify(body, null, 2)}\n`,
      "application/json; charset=utf-8",
      current.etag,
    );
    if (written !== undefined) return fresh;
  }
  throw new StorageError(`${ALERTS_KEY} in ${store.url} kept changing; try again`);
}
