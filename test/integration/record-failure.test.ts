import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runFailedAlert } from "../../src/report/alert-rules.js";
import { ALERTS_KEY, readAlerts, unsentAlerts } from "../../src/storage/alerts.js";
import { openStore } from "../../src/storage/open-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { lambdaContext } from "../helpers/apigw.js";
import { type SnsStandIn, startSns } from "../helpers/aws-standins.js";
import { loadHandlers, localS3Env } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";
import { type LocalS3, startS3 } from "../helpers/s3.js";

/**
 * RecordFailure (report.md §11) as the deployed function runs it: its environment as the
 * template gives it (the provider's REPORT_TIMEZONE and REPORT_STORAGE, its own
 * REPORT_TOPIC_ARN), S3 and SNS reached through AWS_ENDPOINT_URL_* (s3rver with conditional
 * writes, the SNS stand-in), its input as the state machine's RecordFailure state builds it.
 * A scheduled run's failure becomes one run_failed alert for the day it was scheduled for, in
 * the report time zone, and one message; once per date; a failed send records nothing, so the
 * state machine's retry sends it.
 */

const REGION = "eu-central-1";
const TOPIC = `arn:aws:sns:${REGION}:123456789012:usage-report-ci-AlarmTopic-1A2B3C4D`;
const BUCKET = "usage-reports";
const TIME_ZONE = "Asia/Tokyo";
// 00:30 on 29 March in Tokyo is 15:30 UTC on the 28th: yesterday there is the 28th (in UTC,
// the 27th).
const SCHEDULED = { source: "schedule", scheduled_time: "2026-03-28T15:30:00Z" };
const DATE = "2026-03-28";
const RUN_ID = "a1b2c3d4-schedule-2026-03-29";
const ERROR = {
  Error: "StepFailedError",
  Cause: JSON.stringify({
    errorType: "StepFailedError",
    errorMessage: "the run could not be published: ModelArts answered 401 for token=t0k3nSECRET",
    trace: [
      "StepFailedError: the run could not be published",
      "    at publish (file:///var/task/x.mjs:1:1)",
    ],
  }),
};
/** Step Functions' status-change event of a failed execution, as EventBridge delivers it. */
const input = (event: unknown, status = "FAILED") => ({
  version: "0",
  id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
  "detail-type": "Step Functions Execution Status Change",
  source: "aws.states",
  account: "123456789012",
  time: "2026-03-29T00:41:02Z",
  region: REGION,
  resources: [`arn:aws:states:${REGION}:123456789012:execution:usage-report-run:${RUN_ID}`],
  detail: {
    executionArn: `arn:aws:states:${REGION}:123456789012:execution:usage-report-run:${RUN_ID}`,
    stateMachineArn: `arn:aws:states:${REGION}:123456789012:stateMachine:usage-report-run`,
    name: RUN_ID,
    status,
    startDate: 1774744200000,
    stopDate: 1774744862000,
    input: typeof event === "string" ? event : JSON.stringify(event),
    inputDetails: { included: true },
    output: null,
    outputDetails: null,
    error: status === "FAILED" ? ERROR.Error : null,
    cause: status === "FAILED" ? ERROR.Cause : null,
  },
});

let s3: LocalS3;
let sns: SnsStandIn;
const lines: string[] = [];

beforeAll(async () => {
  s3 = await startS3({ conditionalWrites: true });
  await s3.createBucket(BUCKET);
  sns = await startSns({ topics: [TOPIC] });
});
afterAll(async () => {
  await sns?.close();
  await s3?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A fresh prefix of the bucket, as its own storage root. */
function freshRoot(): { url: string; store: ReportStore } {
  const url = `s3://${BUCKET}/${randomUUID()}`;
  return { url, store: openStore(url, { s3Client: s3.client }) };
}

/** The handler loaded anew with the function's environment, its output captured. */
async function recordFailure(
  storage: string,
  topicArn = TOPIC,
): Promise<(input: unknown) => Promise<unknown>> {
  const handlers = await loadHandlers({
    // The provider's environment (serverless.yml), then the function's own.
    POWERTOOLS_SERVICE_NAME: "modelarts-usage-report",
    POWERTOOLS_METRICS_NAMESPACE: "ModelArtsUsageReport",
    REPORT_TIMEZONE: TIME_ZONE,
    FAILURE_STATUSES: "3,5,6,13",
    REPORT_STORAGE: storage,
    REPORT_TOPIC_ARN: topicArn,
    // What Lambda sets, and where the AWS SDK finds the stand-ins.
    AWS_LAMBDA_FUNCTION_NAME: "usage-report-ci-recordFailure",
    ...localS3Env(s3.endpoint),
    AWS_ENDPOINT_URL_SNS: sns.endpoint,
    AWS_MAX_ATTEMPTS: "1",
  });
  captureOutput(lines);
  return (event) => handlers.steps.recordFailure(event, lambdaContext("record-failure", 60_000));
}

const alertsFile = async (store: ReportStore) => store.get(ALERTS_KEY);

describe("RecordFailure", () => {
  it("records a scheduled run's failure once: one run_failed alert for the scheduled day, one message", async () => {
    const { url, store } = freshRoot();
    const handler = await recordFailure(url);
    const sent = sns.published.length;
    lines.length = 0;

    expect(await handler(input(SCHEDULED))).toEqual({ alert: `run_failed:${DATE}`, raised: true });

    const expected = runFailedAlert(DATE, {
      error: "StepFailedError",
      detail: "the run could not be published: ModelArts answered 401 for token=[redacted]",
      execution: RUN_ID,
    });
    const alerts = await readAlerts(store);
    expect(alerts).toEqual([{ ...expected, raised_at: expect.any(String) }]);
    expect(alerts[0]?.raised_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(sns.published.slice(sent)).toEqual([
      expect.objectContaining({
        topicArn: TOPIC,
        region: REGION,
        subject: `ModelArts usage ${DATE} - the scheduled run failed`,
        message: `New alerts:\n  - ${expected.message}\n`,
      }),
    ]);
    expect(JSON.stringify(sns.published)).not.toContain("t0k3nSECRET");
    expect(lines.join("")).toContain(`run_failed:${DATE}`);
    expect(lines.join("")).not.toContain("t0k3nSECRET");

    // The same failure again (a second attempt, another execution for the same schedule).
    const requests = sns.requests.length;
    const before = await alertsFile(store);
    expect(await handler(input(SCHEDULED))).toEqual({ alert: `run_failed:${DATE}`, raised: false });
    const again = await recordFailure(url);
    expect(await again(input(SCHEDULED))).toEqual({ alert: `run_failed:${DATE}`, raised: false });
    expect(sns.requests.length).toBe(requests);
    expect(sns.published.length).toBe(sent + 1);
    expect((await alertsFile(store))?.etag).toBe(before?.etag);
  });

  it("records nothing for a run that was not scheduled, nor for an event no run takes", async () => {
    const { url, store } = freshRoot();
    const handler = await recordFailure(url);
    const requests = sns.requests.length;
    for (const event of [
      { dates: [DATE] },
      { month: "2026-02" },
      { dates: [DATE], request_id: "r-1" },
      { source: "cron", scheduled_time: SCHEDULED.scheduled_time },
      "not an event",
    ]) {
      expect(await handler(input(event)), JSON.stringify(event)).toEqual({
        alert: null,
        raised: false,
      });
    }
    // A scheduled execution that someone stopped, or that succeeded: nothing to tell.
    for (const status of ["ABORTED", "SUCCEEDED"]) {
      expect(await handler(input(SCHEDULED, status)), status).toEqual({
        alert: null,
        raised: false,
      });
    }
    expect(await alertsFile(store)).toBeUndefined();
    expect(sns.requests.length).toBe(requests);
  });

  it("records a scheduled run that timed out (the state machine's 55 minutes) as failed", async () => {
    const { url, store } = freshRoot();
    const handler = await recordFailure(url);
    expect(await handler(input(SCHEDULED, "TIMED_OUT"))).toEqual({
      alert: `run_failed:${DATE}`,
      raised: true,
    });
    const [alert] = await readAlerts(store);
    expect(alert?.message).toBe(
      `the scheduled run for ${DATE} failed (States.Timeout); execution ${RUN_ID} names the step`,
    );
    expect(sns.published.at(-1)?.subject).toBe(
      `ModelArts usage ${DATE} - the scheduled run failed`,
    );
  });

  it("fails transiently when the topic refuses, the alert raised and waiting, so the retry sends it", async () => {
    const { url, store } = freshRoot();
    const missing = `${TOPIC}-gone`;
    const handler = await recordFailure(url, missing);
    const sent = sns.published.length;
    const error = await handler(input(SCHEDULED)).catch((e: unknown) => e);
    // By name: it is what the state machine's Retry matches (the module was loaded anew, so
    // its class is not the one this file could import).
    expect(error).toMatchObject({
      name: "StepTransientError",
      message: "the failed run could not be recorded and told: Topic does not exist",
    });
    expect(sns.requests.at(-1)).toMatchObject({ action: "Publish", topicArn: missing });
    expect(sns.published.length).toBe(sent);
    expect((await unsentAlerts(store)).map((a) => a.id)).toEqual([`run_failed:${DATE}`]);

    // The retry, once the topic is there: told, raised before.
    const retry = await recordFailure(url);
    expect(await retry(input(SCHEDULED))).toEqual({ alert: `run_failed:${DATE}`, raised: false });
    expect(sns.published.slice(sent).map((m) => m.subject)).toEqual([
      `ModelArts usage ${DATE} - the scheduled run failed`,
    ]);
    expect((await readAlerts(store)).map((a) => a.id)).toEqual([`run_failed:${DATE}`]);
    expect(await unsentAlerts(store)).toEqual([]);
  });
});
