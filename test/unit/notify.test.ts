import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { covers, scopeOfPath, verifyLink } from "../../src/api/links.js";
import { type ApiTokenSource, loadNotifyConfig } from "../../src/app/config.js";
import {
  DIGEST_LINK_SECONDS,
  deliverRun,
  digestLinks,
  type LinkMaker,
  type Notifier,
  type OutgoingMessage,
  recordRunFailure,
} from "../../src/app/notify.js";
import type { ReportJobResult } from "../../src/app/report-job.js";
import { type AlertCandidate, failureAlert, runFailedAlert } from "../../src/report/alert-rules.js";
import { JobRows } from "../../src/report/job-rows.js";
import { DAY } from "../../src/report/period.js";
import { digestSubject, renderAlertsMessage } from "../../src/report/render-digest.js";
import { DOWNLOADABLE_FILES, type UsageReport } from "../../src/report/types.js";
import { ConfigError } from "../../src/shared/errors.js";
import { Secret } from "../../src/shared/secret.js";
import { type Alert, raiseAlerts, unsentAlerts, wasSent } from "../../src/storage/alerts.js";
import { openStore } from "../../src/storage/open-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";

/**
 * Telling people (report.md §11) over a real store (file://): a scheduled run's digest is
 * written as digest.txt and sent once per day; a retried run sends only the alerts it newly
 * raised; a failed send is tried again; another run sends only its alerts. Its subject is
 * one that SNS takes; its link opens the day's page for exactly a week; the settings refuse
 * what cannot work, without ever showing the link key.
 */

const DATE = "2026-11-27";
const DIGEST_KEY = DAY.key(DATE, "digest.txt");
const NOW = Date.UTC(2026, 10, 28, 0, 30, 12);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "notify-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let stores = 0;
const freshStore = (): ReportStore => openStore(`file://${join(dir, `store-${++stores}`)}`);

type RunResult = Pick<ReportJobResult, "written" | "reports" | "alerts">;

/** A run that wrote the 26th and the 27th (the newest: the digest's day). */
function runResult(alerts: readonly Alert[] = [], day: Partial<UsageReport> = {}): RunResult {
  const dates = ["2026-11-26", DATE];
  const jobs = new JobRows([], {
    window: { start: 0, end: 1 },
    now: NOW,
    failureStatuses: new Set(),
  });
  return {
    written: dates.map((date) => ({
      date,
      keys: Object.fromEntries(
        DOWNLOADABLE_FILES.map((name) => [name, DAY.key(date, name)]),
      ) as RunResult["written"][number]["keys"],
    })),
    reports: [
      { report: makeReport({ label: "2026-11-26" }), jobs },
      { report: makeReport({ label: DATE, ...day }), jobs },
    ],
    alerts,
  };
}

/** Alerts as a run raises them: stored in `store`'s alerts.json. */
async function raise(store: ReportStore, ...days: string[]): Promise<Alert[]> {
  const candidates = days.map((d) => failureAlert(d, 40, [1]) as AlertCandidate);
  return raiseAlerts(store, candidates, NOW);
}

/** A notifier that keeps what it is given; `failing` makes every publish throw. */
function recording(failing = false): { notifier: Notifier; sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  return {
    sent,
    notifier: {
      async publish(message) {
        if (failing) throw new Error("SNS is down");
        sent.push(message);
      },
    },
  };
}

const noLink: LinkMaker = () => undefined;
const digestText = async (store: ReportStore) =>
  (await store.get(DIGEST_KEY))?.body.toString("utf8");

describe("deliverRun", () => {
  it("writes a scheduled run's digest as digest.txt and sends nothing without a notifier", async () => {
    const store = freshStore();
    const delivery = await deliverRun(runResult(), { scheduled: true }, { store, link: noLink });
    expect(delivery).toMatchObject({ kind: "digest", sent: false, digest: { date: DATE } });
    const text = await digestText(store);
    expect(text).toBe(delivery.kind === "digest" ? delivery.digest.text : "");
    expect(text).toMatch(/^ModelArts usage 2026-11-27 \(UTC\)\n/);
    expect(text).toContain("No link: no link key is configured.");
    expect(await store.get(DAY.key("2026-11-26", "digest.txt"))).toBeUndefined();
    expect(await wasSent(store, `digest:${DATE}`)).toBe(false);
  });

  it("sends the day's digest once: a second run of the day sends nothing and leaves digest.txt as it was", async () => {
    const store = freshStore();
    const { notifier, sent } = recording();
    const link: LinkMaker = (path) => `https://api.example.com${path}&signature=x`;
    const first = await deliverRun(
      runResult([], { totals: makeMetrics({ gpu_hours: 10 }) }),
      { scheduled: true },
      { store, notifier, link },
    );
    expect(first).toMatchObject({ kind: "digest", sent: true });
    const written = await store.get(DIGEST_KEY);
    expect(sent.map(({ subject, text }) => ({ subject, text }))).toEqual([
      { subject: `ModelArts usage ${DATE}`, text: written?.body.toString() },
    ]);
    expect(sent[0]?.text).toContain(
      `The day's page (7 days): https://api.example.com/reports/${DATE}?format=html&signature=x`,
    );
    expect(await wasSent(store, `digest:${DATE}`)).toBe(true);

    // The same day again (a retried execution, a rerun) with other figures.
    const again = await deliverRun(
      runResult([], { totals: makeMetrics({ gpu_hours: 99 }) }),
      { scheduled: true },
      { store, notifier, link },
    );
    expect(again).toEqual({ kind: "digest_sent_before", date: DATE, alerts: 0 });
    expect(sent).toHaveLength(1);
    const after = await store.get(DIGEST_KEY);
    expect(after?.body.equals(written?.body ?? Buffer.alloc(0))).toBe(true);
    expect(after?.etag).toBe(written?.etag);
  });

  it("sends the alerts a retried run newly raised as an alerts message, the digest not again", async () => {
    const store = freshStore();
    const { notifier, sent } = recording();
    await deliverRun(runResult(), { scheduled: true }, { store, notifier, link: noLink });
    const before = await digestText(store);
    const alerts = await raise(store, DATE);
    const again = await deliverRun(
      runResult(alerts),
      { scheduled: true },
      { store, notifier, link: noLink },
    );
    expect(again).toEqual({ kind: "digest_sent_before", date: DATE, alerts: 1 });
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(renderAlertsMessage(alerts));
    expect(sent[1]?.subject).toBe("ModelArts usage - 1 new alert");
    expect(sent[1]?.text).toBe(`New alerts:\n  - ${alerts[0]?.message}\n`);
    expect(await digestText(store)).toBe(before);
  });

  it("puts a scheduled run's alerts in its digest and its subject", async () => {
    const store = freshStore();
    const { notifier, sent } = recording();
    const alerts = await raise(store, "2026-11-26", DATE);
    await deliverRun(runResult(alerts), { scheduled: true }, { store, notifier, link: noLink });
    expect(sent.map((m) => m.subject)).toEqual([`ModelArts usage ${DATE} - 2 new alerts`]);
    for (const a of alerts) expect(sent[0]?.text).toContain(`  - ${a.message}\n`);
  });

  it("leaves the day unmarked when the send fails, so the next attempt sends it", async () => {
    const store = freshStore();
    await expect(
      deliverRun(
        runResult(),
        { scheduled: true },
        { store, notifier: recording(true).notifier, link: noLink },
      ),
    ).rejects.toThrow("SNS is down");
    expect(await wasSent(store, `digest:${DATE}`)).toBe(false);
    const { notifier, sent } = recording();
    const retried = await deliverRun(
      runResult(),
      { scheduled: true },
      { store, notifier, link: noLink },
    );
    expect(retried).toMatchObject({ kind: "digest", sent: true });
    expect(sent.map((m) => m.subject)).toEqual([`ModelArts usage ${DATE}`]);
    expect(await wasSent(store, `digest:${DATE}`)).toBe(true);
  });

  it("tells another run's alerts as one message, and nothing when it raised none", async () => {
    const store = freshStore();
    const { notifier, sent } = recording();
    const alerts = await raise(store, "2026-11-26", DATE);
    const told = await deliverRun(
      runResult(alerts),
      { scheduled: false },
      { store, notifier, link: noLink },
    );
    expect(told).toEqual({ kind: "alerts", count: 2 });
    expect(sent).toEqual([renderAlertsMessage(alerts)]);
    expect(sent[0]?.subject).toBe("ModelArts usage - 2 new alerts");

    const quiet = await deliverRun(
      runResult(),
      { scheduled: false },
      { store, notifier, link: noLink },
    );
    expect(quiet).toEqual({ kind: "nothing" });
    expect(sent).toHaveLength(1);
    // No digest for a run that was not the schedule's, and nothing marked.
    expect(await store.get(DIGEST_KEY)).toBeUndefined();
    expect(await wasSent(store, `digest:${DATE}`)).toBe(false);
  });

  it("tells the alerts a failed send left waiting in the next message, once", async () => {
    const store = freshStore();
    const alerts = await raise(store, "2026-11-25");
    // A regeneration raised them, and SNS refused: they wait, raised once, in alerts.json.
    await expect(
      deliverRun(
        runResult(alerts),
        { scheduled: false },
        { store, notifier: recording(true).notifier, link: noLink },
      ),
    ).rejects.toThrow("SNS is down");
    expect((await unsentAlerts(store)).map((a) => a.id)).toEqual(alerts.map((a) => a.id));
    // The next scheduled run raised nothing new of its own, and still tells them.
    const { notifier, sent } = recording();
    const next = await deliverRun(
      runResult(),
      { scheduled: true },
      { store, notifier, link: noLink },
    );
    expect(next).toMatchObject({ kind: "digest", sent: true });
    expect(sent.map((m) => m.subject)).toEqual([`ModelArts usage ${DATE} - 1 new alert`]);
    expect(sent[0]?.text).toContain(`  - ${alerts[0]?.message}\n`);
    expect(await unsentAlerts(store)).toEqual([]);
    // Told once: the run after tells nothing.
    expect(
      await deliverRun(runResult(), { scheduled: false }, { store, notifier, link: noLink }),
    ).toEqual({ kind: "nothing" });
    expect(sent).toHaveLength(1);
  });

  it("records a failed scheduled run's alert once and tells it with whatever waits", async () => {
    const store = freshStore();
    const waiting = await raise(store, "2026-11-23");
    const failure = {
      date: "2026-11-24",
      error: "StepFailedError",
      detail: "refused",
      execution: "e-1",
    };
    // SNS refuses: raised, and waiting for the retry.
    await expect(recordRunFailure(store, recording(true).notifier, failure, NOW)).rejects.toThrow(
      "SNS is down",
    );
    const { notifier, sent } = recording();
    expect(await recordRunFailure(store, notifier, failure, NOW)).toEqual({
      alert: "run_failed:2026-11-24",
      raised: false,
      told: 2,
    });
    expect(sent.map((m) => m.subject)).toEqual([
      "ModelArts usage 2026-11-24 - the scheduled run failed (+1 more alert)",
    ]);
    expect(sent[0]?.text).toContain(waiting[0]?.message ?? "?");
    expect(sent[0]?.text).toContain(
      "the scheduled run for 2026-11-24 failed (StepFailedError): refused; execution e-1",
    );
    // Told once: neither a further retry nor the next run tells it again.
    expect(await recordRunFailure(store, notifier, failure, NOW)).toMatchObject({ told: 0 });
    expect(
      await deliverRun(runResult(), { scheduled: false }, { store, notifier, link: noLink }),
    ).toEqual({ kind: "nothing" });
    expect(sent).toHaveLength(1);
  });

  it("sends the digest of a scheduled day it did not write (a later scan's report was stored first)", async () => {
    const store = freshStore();
    const { notifier, sent } = recording();
    const superseded: RunResult = { ...runResult(), written: [] };
    const delivery = await deliverRun(
      superseded,
      { scheduled: true },
      { store, notifier, link: noLink },
    );
    expect(delivery).toMatchObject({ kind: "digest", sent: true, digest: { date: DATE } });
    expect(sent.map((m) => m.subject)).toEqual([`ModelArts usage ${DATE}`]);
  });

  it("leaves the stack's digest.txt alone when a command line reports the same day on its bucket", async () => {
    const store = freshStore();
    const { notifier } = recording();
    const link: LinkMaker = (path) => `https://api.example.com${path}&signature=x`;
    await deliverRun(runResult(), { scheduled: true }, { store, notifier, link });
    const stacks = await digestText(store);
    const local = await deliverRun(
      runResult([], { totals: makeMetrics({ gpu_hours: 7 }) }),
      { scheduled: true },
      { store, link: noLink },
    );
    expect(local).toEqual({ kind: "digest_sent_before", date: DATE, alerts: 0 });
    expect(await digestText(store)).toBe(stacks);
  });

  it("tells nothing of a run that wrote no day", async () => {
    const store = freshStore();
    const { notifier, sent } = recording();
    const monthOnly: RunResult = { written: [], reports: [], alerts: [] };
    expect(
      await deliverRun(monthOnly, { scheduled: true }, { store, notifier, link: noLink }),
    ).toEqual({ kind: "nothing" });
    expect(sent).toEqual([]);
  });
});

/** What SNS takes as a subject: 1–99 printable ASCII characters, the first no space. */
const SNS_SUBJECT = /^[\x21-\x7e][\x20-\x7e]{0,98}$/;

describe("subjects", () => {
  it("are one line of ASCII under 100 characters, for the longest label and any number of alerts", () => {
    for (const label of ["2026-11-27", "9999-12-31", "2026-11"]) {
      for (const n of [0, 1, 2, 99_999, Number.MAX_SAFE_INTEGER]) {
        expect(digestSubject(label, n)).toMatch(SNS_SUBJECT);
      }
    }
    expect(digestSubject(DATE, Number.MAX_SAFE_INTEGER)).toBe(
      "ModelArts usage 2026-11-27 - 9007199254740991 new alerts",
    );
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      message: `alert ${i} — über`,
      kind: "failures" as const,
      period: "2026-11-27",
    }));
    expect(renderAlertsMessage(many).subject).toMatch(SNS_SUBJECT);
    expect(renderAlertsMessage(many).subject).toBe("ModelArts usage - 10000 new alerts");
    const failed = runFailedAlert(DATE, { error: "StepFailedError", detail: "", execution: "e" });
    expect(renderAlertsMessage([failed]).subject).toBe(
      `ModelArts usage ${DATE} - the scheduled run failed`,
    );
  });
});

const KEY = "k3y-0f-the-d1gest-link-abcdefghijklmnop";
const BASE = "https://abc123.execute-api.eu-central-1.amazonaws.com";
const valueKey = (key: string): ApiTokenSource => ({ kind: "value", token: new Secret(key) });
const noSecrets = async (): Promise<string> => {
  throw new Error("no secret should be fetched");
};

describe("digestLinks", () => {
  it("makes a link to the day's page that the link check accepts for exactly a week", async () => {
    const link = await digestLinks(valueKey(KEY), BASE, NOW, noSecrets);
    const made = link(`/reports/${DATE}?format=html`);
    expect(made).toBeDefined();
    const url = new URL(made ?? "");
    expect(url.origin).toBe(BASE);
    expect(url.pathname).toBe(`/reports/${DATE}`);
    expect(url.searchParams.get("format")).toBe("html");
    expect(Number(url.searchParams.get("expires")) * 1000).toBe(NOW + 7 * 86_400_000);
    expect(DIGEST_LINK_SECONDS).toBe(7 * 86_400);

    const query = Object.fromEntries(url.searchParams);
    const key = Buffer.from(KEY);
    const verdict = verifyLink(key, query, NOW);
    expect(verdict).toEqual({
      ok: true,
      link: { scope: { kind: "day", date: DATE }, expires: NOW / 1000 + DIGEST_LINK_SECONDS },
    });
    const page = scopeOfPath(url.pathname);
    expect(page).toBeDefined();
    if (!verdict.ok || page === undefined) return;
    expect(covers(verdict.link.scope, page)).toBe(true);
    // Not another day's page.
    const other = scopeOfPath("/reports/2026-11-26");
    expect(other !== undefined && covers(verdict.link.scope, other)).toBe(false);
    // Open until the last second of the week, expired at its end; worthless under another key.
    expect(verifyLink(key, query, NOW + 7 * 86_400_000 - 1000).ok).toBe(true);
    expect(verifyLink(key, query, NOW + 7 * 86_400_000)).toEqual({ ok: false, reason: "expired" });
    expect(verifyLink(Buffer.from(`${KEY}x`), query, NOW)).toEqual({
      ok: false,
      reason: "invalid",
    });
  });

  it("reads a secret key once, trimmed, and signs with it", async () => {
    const asked: string[] = [];
    const link = await digestLinks(
      { kind: "secret", secretId: "link-key" },
      BASE,
      NOW,
      async (id) => {
        asked.push(id);
        return `${KEY}\n`;
      },
    );
    const made = new URL(link(`/reports/${DATE}?format=html`) ?? "");
    link("/reports/2026-11-26?format=html");
    expect(asked).toEqual(["link-key"]);
    expect(verifyLink(Buffer.from(KEY), Object.fromEntries(made.searchParams), NOW).ok).toBe(true);
  });

  it("refuses a key shorter than 32 characters, without saying it", async () => {
    const short = "short-link-key-31-characters-xx";
    expect(short).toHaveLength(31);
    for (const key of [valueKey(short), valueKey(`  ${short}  `)]) {
      const error = await digestLinks(key, BASE, NOW, noSecrets).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe("the link key is shorter than 32 characters");
    }
    const fromSecret = await digestLinks(
      { kind: "secret", secretId: "s" },
      BASE,
      NOW,
      async () => short,
    ).catch((e: unknown) => e);
    expect(fromSecret).toBeInstanceOf(ConfigError);
    expect(String(fromSecret)).not.toContain(short);
  });

  it("makes no links without a key or without the API's URL", async () => {
    for (const [key, base] of [
      [null, BASE],
      [valueKey(KEY), null],
      [null, null],
    ] as const) {
      const link = await digestLinks(key, base, NOW, noSecrets);
      expect(link(`/reports/${DATE}?format=html`)).toBeUndefined();
    }
  });
});

/** The message of the ConfigError that `env` gets, checked to hold no link key. */
function refused(env: Record<string, string>): string {
  try {
    loadNotifyConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const key of [env.REPORT_LINK_KEY, KEY].filter((k) => k !== undefined)) {
      expect(message).not.toContain(key);
      expect((error as Error).stack).not.toContain(key);
    }
    return message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadNotifyConfig", () => {
  const TOPIC = "arn:aws:sns:eu-central-1:123456789012:usage-report-prod-alarms";
  const IN_AWS = { AWS_LAMBDA_FUNCTION_NAME: "usage-report-prod-publish" };

  it("sends nothing and makes no links when nothing is set", () => {
    expect(loadNotifyConfig({})).toEqual({ topicArn: null, links: null });
    // A key alone makes no links: the digest's link needs the API's URL.
    expect(loadNotifyConfig({ REPORT_LINK_KEY: KEY })).toEqual({ topicArn: null, links: null });
  });

  it("takes a standard topic, the API's origin and the key, deployed or local", () => {
    const deployed = loadNotifyConfig({
      ...IN_AWS,
      REPORT_TOPIC_ARN: TOPIC,
      REPORT_API_URL: BASE,
      REPORT_LINK_KEY_SECRET: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:link-AbCdEf",
    });
    expect(deployed).toEqual({
      topicArn: TOPIC,
      links: {
        apiUrl: BASE,
        key: {
          kind: "secret",
          secretId: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:link-AbCdEf",
        },
      },
    });
    expect(Object.isFrozen(deployed)).toBe(true);
    expect(Object.isFrozen(deployed.links)).toBe(true);
    const local = loadNotifyConfig({
      REPORT_API_URL: "http://localhost:3000/",
      REPORT_LINK_KEY: KEY,
    });
    expect(local.links?.apiUrl).toBe("http://localhost:3000/");
    expect(local.links?.key.kind).toBe("value");
    expect(JSON.stringify(local)).not.toContain(KEY);
    expect(
      loadNotifyConfig({ REPORT_TOPIC_ARN: "arn:aws-cn:sns:cn-north-1:123456789012:alarms" })
        .topicArn,
    ).toBe("arn:aws-cn:sns:cn-north-1:123456789012:alarms");
  });

  it("refuses a topic that is not a standard SNS topic's ARN", () => {
    for (const arn of [
      "usage-report-prod-alarms",
      `${TOPIC}.fifo`,
      "arn:aws:sqs:eu-central-1:123456789012:usage-report-prod-alarms",
      "arn:aws:sns:eu-central-1:12345:usage-report-prod-alarms",
      `${TOPIC}:subscription-id`,
      `https://sns.eu-central-1.amazonaws.com/${TOPIC}`,
    ]) {
      expect(refused({ REPORT_TOPIC_ARN: arn, REPORT_LINK_KEY: KEY }), arn).toBe(
        "REPORT_TOPIC_ARN is not the ARN of a standard SNS topic",
      );
    }
  });

  it("refuses an API URL that is not an http(s) origin", () => {
    for (const url of [
      `${BASE}/prod`,
      `${BASE}/reports/2026-11-27`,
      `${BASE}?stage=prod`,
      `${BASE}#top`,
      "ftp://abc123.execute-api.eu-central-1.amazonaws.com",
      "abc123.execute-api.eu-central-1.amazonaws.com",
      "https://",
      "https://exa mple.com",
    ]) {
      expect(refused({ REPORT_API_URL: url, REPORT_LINK_KEY: KEY }), url).toBe(
        "REPORT_API_URL must be the API's http(s) URL, with no path",
      );
    }
  });

  it("refuses an API URL without a usable link key, never saying the key", () => {
    expect(refused({ REPORT_API_URL: BASE })).toBe(
      "REPORT_API_URL is set: the digest's link needs the link key too",
    );
    const short = "a-link-key-that-is-too-short";
    expect(refused({ REPORT_API_URL: BASE, REPORT_LINK_KEY: short })).toBe(
      "REPORT_LINK_KEY must be at least 32 characters",
    );
    expect(
      refused({ REPORT_API_URL: BASE, REPORT_LINK_KEY: KEY, REPORT_LINK_KEY_SECRET: "s" }),
    ).toBe("set REPORT_LINK_KEY_SECRET or REPORT_LINK_KEY, not both");
    expect(refused({ ...IN_AWS, REPORT_API_URL: BASE, REPORT_LINK_KEY: KEY })).toBe(
      "REPORT_LINK_KEY is for the local stage only; in AWS set REPORT_LINK_KEY_SECRET",
    );
    expect(refused({ ...IN_AWS, REPORT_API_URL: BASE })).toBe(
      "REPORT_LINK_KEY_SECRET is required when running in AWS",
    );
  });
});
