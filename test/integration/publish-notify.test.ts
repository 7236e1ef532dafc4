import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { runPlan } from "../../src/app/steps.js";
import { scanOutput } from "../../src/handlers/step-payloads.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { wasSent } from "../../src/storage/alerts.js";
import { openStore } from "../../src/storage/open-store.js";
import { lambdaContext } from "../helpers/apigw.js";
import { type SnsStandIn, startSns } from "../helpers/aws-standins.js";
import { directivesOf, emfProblems } from "../helpers/emf.js";
import { loadHandlers } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";

/**
 * Publish's digest when it cannot be sent (report.md §11): a scheduled run whose topic SNS
 * does not hold (NotFound). The reports are published and the step succeeds; the failure is
 * counted as NotificationFailures in the invocation's EMF document (the stack alarms on it)
 * and logged, naming SNS's refusal and never the link key nor a signed link. Plan and
 * ScanSource run first, as the state machine runs them, over the simulator.
 */

const NOW = Date.now();
const UPSTREAM = `upstream-${randomUUID()}`;
const REGION = "eu-central-1";
const TOPIC = `arn:aws:sns:${REGION}:123456789012:usage-report-ci-AlarmTopic-1A2B3C4D`;
const LINK_KEY = `link-key-${randomUUID()}`;
const API_URL = "https://abc123defg.execute-api.eu-central-1.amazonaws.com";

let sim: Simulator;
let sns: SnsStandIn;
let dir: string;
const lines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    projectId: "p",
    versions: generateWorkload({ versions: 200, seed: 22, now: NOW, days: 3 }),
    auth: { tokens: [UPSTREAM] },
    pageCap: 100,
  });
  sns = await startSns({ topics: [TOPIC] });
  dir = await mkdtemp(join(tmpdir(), "publish-notify-"));
});

afterAll(async () => {
  await sim?.close();
  await sns?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

type Json = Record<string, unknown>;
const jsonLines = (): Json[] =>
  lines
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Json);

/**
 * The steps' handlers with the settings the template gives Publish (the topic, the API's URL;
 * the key as the local stage takes it), and a scheduled run planned on them.
 */
async function scheduledRun(storage: string, runId: string, topicArn: string) {
  const h = await loadHandlers({
    REPORT_STATE_MACHINE_ARN: undefined,
    AWS_LAMBDA_FUNCTION_NAME: undefined,
    REPORT_STORAGE: `file://${storage}`,
    REPORT_TIMEZONE: "UTC",
    MODELARTS_ENDPOINT: sim.url,
    MODELARTS_PROJECT_ID: "p",
    MODELARTS_TOKEN: UPSTREAM,
    MODELARTS_PAGE_SIZE: "100",
    MODELARTS_MAX_ATTEMPTS: "1",
    REPORT_TOPIC_ARN: topicArn,
    REPORT_API_URL: API_URL,
    REPORT_LINK_KEY: LINK_KEY,
    AWS_ENDPOINT_URL_SNS: sns.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "ASIASTANDINTEST00022",
    AWS_SECRET_ACCESS_KEY: "not-a-real-secret-key",
    AWS_MAX_ATTEMPTS: "1",
  });
  captureOutput(lines);
  const event = { source: "schedule", scheduled_time: new Date(NOW).toISOString() };
  const plan = runPlan.parse(await h.steps.plan({ event, run_id: runId }, lambdaContext("plan")));
  return { h, plan };
}

it("publishes the reports and counts NotificationFailures when the topic refuses the digest", async () => {
  const storage = join(dir, "store");
  const missing = `${TOPIC}-deleted`;
  const { h, plan } = await scheduledRun(storage, "run-notify", missing);
  expect(plan.scheduled).toBe(true);
  const date = plan.dates.at(-1) as string;
  const scan = scanOutput.parse(
    await h.steps.scanSource({ plan, index: 0 }, lambdaContext("scan", 900_000)),
  );
  lines.length = 0;
  const requests = sns.requests.length;

  const outcome = await h.steps.publish(
    { ...plan, scans: [scan] },
    lambdaContext("publish", 900_000),
  );

  // The step succeeded and the reports are published.
  expect(outcome).toMatchObject({ dates: plan.dates });
  const latest = JSON.parse(await readFile(join(storage, "latest.json"), "utf8")) as Json;
  expect(latest.report_date).toBe(date);
  const report = JSON.parse(
    await readFile(join(storage, "daily", date, "report.json"), "utf8"),
  ) as Json;
  expect(report.report_date).toBe(date);
  // The digest was written, tried once on the topic, refused, and not marked sent.
  const digest = await readFile(join(storage, "daily", date, "digest.txt"), "utf8");
  expect(digest).toContain(`The day's page (7 days): ${API_URL}/reports/${date}?`);
  expect(sns.requests.slice(requests)).toEqual([
    expect.objectContaining({ action: "Publish", topicArn: missing }),
  ]);
  expect(sns.published).toEqual([]);
  expect(await wasSent(openStore(`file://${storage}`), `digest:${date}`)).toBe(false);

  // Counted in the invocation's own EMF document, beside the run's figures.
  const docs = jsonLines().filter((d) => d._aws !== undefined);
  for (const doc of docs) expect(emfProblems(doc)).toEqual([]);
  const run = docs.filter((d) => d.source === undefined);
  expect(run).toHaveLength(1);
  expect(run[0]).toMatchObject({ NotificationFailures: 1, ReportRuns: 1 });
  expect(directivesOf(run[0] as Json)[0]?.Metrics).toContainEqual({
    Name: "NotificationFailures",
    Unit: "Count",
  });

  // Logged as an error naming SNS's refusal; no key, no signed link, anywhere in the output.
  const failures = jsonLines().filter(
    (l) => l.message === "the run's digest or alerts could not be sent; its reports are published",
  );
  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({
    level: "ERROR",
    error: { name: "NotFoundException", message: "Topic does not exist" },
  });
  const output = lines.join("");
  expect(output).not.toContain(LINK_KEY);
  const signature = new URL(digest.match(/https:\/\/\S+/)?.[0] ?? "").searchParams.get("signature");
  expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(output).not.toContain(signature);
  expect(output).not.toContain("not-a-real-secret-key");
});

it("answers a retried Publish that had in fact finished with its outcome, publishing and sending nothing again", async () => {
  // Lambda may answer Step Functions with an error (Lambda.ServiceException) after the
  // invocation ended; the state machine then retries Publish, whose partials are gone.
  const storage = join(dir, "retried");
  const { h, plan } = await scheduledRun(storage, "run-retried", TOPIC);
  const scan = scanOutput.parse(
    await h.steps.scanSource({ plan, index: 0 }, lambdaContext("scan", 900_000)),
  );
  const input = { ...plan, scans: [scan] };
  const sent = sns.published.length;
  const first = await h.steps.publish(input, lambdaContext("publish", 900_000));
  expect(sns.published.length).toBe(sent + 1);
  const store = openStore(`file://${storage}`);
  expect(await store.get(scan.partial.key)).toBeUndefined();
  const date = plan.dates.at(-1) as string;
  const before = await store.get(`daily/${date}/report.json`);

  const again = await h.steps.publish(input, lambdaContext("publish", 900_000));
  expect(again).toEqual(first);
  expect(sns.published.length).toBe(sent + 1);
  expect((await store.get(`daily/${date}/report.json`))?.etag).toBe(before?.etag);
  // A Publish of another run whose partial is missing still fails, for good.
  const other = { ...input, run_id: "run-other" };
  await expect(h.steps.publish(other, lambdaContext("publish", 900_000))).rejects.toMatchObject({
    name: "StepFailedError",
  });
});
