import { makeLink } from "../api/links.js";
import { runFailedAlert } from "../report/alert-rules.js";
import { DAY } from "../report/period.js";
import { digestSubject, renderAlertsMessage, renderDigest } from "../report/render-digest.js";
import {
  type Alert,
  markSent,
  markTold,
  raiseAlerts,
  unsentAlerts,
  wasSent,
} from "../storage/alerts.js";
import type { ReportStore } from "../storage/store.js";
import { type ApiTokenSource, linkKeyBytes } from "./config.js";
import type { ReportJobResult } from "./report-job.js";
import type { FetchSecret } from "./upstream.js";

/**
 * Telling people (report.md §11): after a scheduled run, the day's digest; after any other
 * run that raised alerts (a regeneration), those alerts. Deployed, a message goes to the
 * stack's SNS topic (handlers/sns-notifier.ts); locally, `npm start` prints the digest. The
 * digest is written as `digest.txt` beside the day's files, and sent **once** per day: a
 * retried or repeated scheduled run finds `digest:<day>` marked in alerts.json and sends
 * nothing (nor rewrites the file).
 */

export interface OutgoingMessage {
  /** One line of ASCII, under 100 characters (SNS's rule for e-mail subjects). */
  readonly subject: string;
  readonly text: string;
}

/** Where messages go: the stack's SNS topic deployed. */
export interface Notifier {
  publish(message: OutgoingMessage): Promise<void>;
}

/** A signed link to a report path, or `undefined` when no link key (or API URL) is set. */
export type LinkMaker = (path: string) => string | undefined;

/** The digest's link lasts a week (report.md §11). */
export const DIGEST_LINK_SECONDS = 7 * 86_400;

/**
 * Links signed with the configured key, to pages under `base` (the API's URL), valid for a
 * week from `now`. No key or no base: no links (the digest says so).
 */
export async function digestLinks(
  key: ApiTokenSource | null,
  base: string | null,
  now: number,
  fetchSecret: FetchSecret,
): Promise<LinkMaker> {
  if (key === null || base === null) return () => undefined;
  const bytes = await linkKeyBytes(key, fetchSecret);
  return (path) => makeLink(bytes, { path, ttlSeconds: DIGEST_LINK_SECONDS, now, base }).url;
}

export interface RunDigest extends OutgoingMessage {
  /** The day it is about: the newest day the run wrote. */
  readonly date: string;
}

/**
 * The digest of a run: about the newest day it reported, with the alerts it tells. The day
 * as this run computed it, written or not (a report from a later scan may have been stored
 * first: the link opens that one).
 */
export function digestOfRun(
  result: Pick<ReportJobResult, "reports">,
  alerts: readonly Alert[],
  link: LinkMaker,
): RunDigest | undefined {
  const day = result.reports.filter((r) => DAY.isLabel(r.report.label)).at(-1);
  if (day === undefined) return undefined;
  const date = day.report.label;
  return {
    date,
    subject: digestSubject(date, alerts.length),
    text: renderDigest(
      day.report,
      alerts,
      link(`/reports/${encodeURIComponent(date)}?format=html`),
    ),
  };
}

export type Delivery =
  | { readonly kind: "digest"; readonly digest: RunDigest; readonly sent: boolean }
  | { readonly kind: "digest_sent_before"; readonly date: string; readonly alerts: number }
  | { readonly kind: "alerts"; readonly count: number }
  | { readonly kind: "nothing" };

/** The alerts waiting, in one message of their own; marked told once it is sent. */
async function tellAlerts(
  store: ReportStore,
  notifier: Notifier,
  waiting: readonly Alert[],
): Promise<number> {
  if (waiting.length === 0) return 0;
  await notifier.publish(renderAlertsMessage(waiting));
  await markTold(
    store,
    waiting.map((a) => a.id),
  );
  return waiting.length;
}

/**
 * A failed scheduled run (RecordFailure): its `run_failed` alert raised, once per date, and
 * told at once with whatever else waits. A send that fails throws, and the alert waits for
 * the next message (Lambda's retry of the invocation, or the next run's).
 */
export async function recordRunFailure(
  store: ReportStore,
  notifier: Notifier | undefined,
  failure: {
    readonly date: string;
    readonly error: string;
    readonly detail: string;
    readonly execution: string;
  },
  now: number,
): Promise<{ readonly alert: string; readonly raised: boolean; readonly told: number }> {
  const alert = runFailedAlert(failure.date, failure);
  const raised = await raiseAlerts(store, [alert], now);
  const told =
    notifier === undefined ? 0 : await tellAlerts(store, notifier, await unsentAlerts(store));
  return { alert: alert.id, raised: raised.length > 0, told };
}

/**
 * What a finished run tells. Without a notifier (locally): the digest of a scheduled run
 * with the alerts it raised, written beside the day's files. With one (deployed): every alert
 * raised and not yet told — this run's, and any an earlier run could not send — in the digest
 * of a scheduled run, published once per day, or in a message of their own after any other
 * run; each marked told once SNS took it.
 */
export async function deliverRun(
  result: Pick<ReportJobResult, "reports" | "alerts">,
  run: { readonly scheduled: boolean },
  deps: { readonly store: ReportStore; readonly notifier?: Notifier; readonly link: LinkMaker },
): Promise<Delivery> {
  const { store, notifier } = deps;
  const waiting = notifier === undefined ? result.alerts : await unsentAlerts(store);
  if (!run.scheduled) {
    if (notifier === undefined || waiting.length === 0) return { kind: "nothing" };
    await tellAlerts(store, notifier, waiting);
    return { kind: "alerts", count: waiting.length };
  }
  const digest = digestOfRun(result, waiting, deps.link);
  if (digest === undefined) return { kind: "nothing" };
  const id = `digest:${digest.date}`;
  if (await wasSent(store, id)) {
    // A retried run that raised what its first attempt did not: those alerts on their own.
    // (A command line on the deployed bucket leaves the stack's digest.txt as it was.)
    const told = notifier === undefined ? 0 : await tellAlerts(store, notifier, waiting);
    return { kind: "digest_sent_before", date: digest.date, alerts: told };
  }
  await store.put(DAY.key(digest.date, "digest.txt"), digest.text, "text/plain; charset=utf-8");
  if (notifier === undefined) return { kind: "digest", digest, sent: false };
  // Sent, then marked: a failure between the two sends it again on a retry, never not at all.
  await notifier.publish(digest);
  await markSent(
    store,
    id,
    waiting.map((a) => a.id),
  );
  return { kind: "digest", digest, sent: true };
}
