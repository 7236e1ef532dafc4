import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, lastEndedMonth, localDate, startOfDay } from "../../src/report/time.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { apiGatewayEvent } from "../helpers/apigw.js";
import { evaluate, roleStatements } from "../helpers/iam-policy.js";
import { node22Present } from "../helpers/node22.js";
import { PACKAGE_TIMEOUT_MS } from "../helpers/serverless-package.js";
import { auditStack, callsFor, countsByRole, describeCall } from "./iam-audit.js";
import { REGION, type Stack, startStack } from "./stack.js";

/**
 * What `serverless deploy` creates, as it would run: every function of the compiled template
 * of a deployed stage, from its own zip, in its own process, with exactly the environment the
 * template gives it (see stack.ts). Events are the ones AWS sends: API Gateway's payload 2.0
 * and the schedule's own Input. This is the suite that would have caught the first release's
 * 500 on every GET.
 */

const STAGE = "prod";
const TIME_ZONE = "Europe/Berlin";
const PROJECT = "proj-deployed";
const API_TOKEN = `api-${randomUUID()}`;
const LINK_KEY = `link-key-${randomUUID()}-${randomUUID()}`;
const AK = "AKDEPLOYEDTEST";
const SK = `sk-${randomUUID()}`;
/** The run's steps, as the state machine calls them. */
const STEPS = ["PlanLambdaFunction", "ScanSourceLambdaFunction", "PublishLambdaFunction"];

let dir: string;
let sim: Simulator;
let stack: Stack;
/** The date the scheduled run reports: yesterday in the report time zone. */
let day: string;
let versionCount: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deployed-"));
  const now = Date.now();
  const versions = generateWorkload({ versions: 700, seed: 21, now, days: 6 });
  versionCount = versions.length;
  // AK/SK, so the signed X-Project-Id of a project-scoped call is exercised too.
  sim = await startSimulator({
    projectId: PROJECT,
    versions,
    auth: { aksk: [{ ak: AK, sk: SK }] },
    pageCap: 100,
  });
  stack = await startStack({
    dir,
    stage: STAGE,
    params: {
      timezone: TIME_ZONE,
      modelartsEndpoint: sim.url,
      modelartsProjectId: PROJECT,
    },
    secretValues: {
      ApiTokenSecret: API_TOKEN,
      LinkKeySecret: LINK_KEY,
      ModelArtsCredentialsSecret: JSON.stringify({ ak: AK, sk: SK }),
    },
  });
  day = addDays(localDate(now, TIME_ZONE), -1);
}, PACKAGE_TIMEOUT_MS);

afterAll(async () => {
  if (process.env.DEPLOYED_DEBUG)
    for (const f of stack?.functions.values() ?? []) console.log(f.logicalId, f.process.logs());
  await stack?.close();
  await sim?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function object(key: string): Promise<Buffer | undefined> {
  try {
    const res = await stack.s3.client.send(
      new GetObjectCommand({ Bucket: stack.bucket, Key: `reports/${key}` }),
    );
    return Buffer.from(await (res.Body?.transformToByteArray() ?? new Uint8Array()));
  } catch {
    return undefined;
  }
}

async function keys(prefix: string): Promise<string[]> {
  const res = await stack.s3.client.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: `reports/${prefix}` }),
  );
  return (res.Contents ?? []).map((o) => (o.Key ?? "").slice("reports/".length)).sort();
}

function get(path: string, headers: Record<string, string> = {}) {
  return stack.request(
    apiGatewayEvent({ url: path, headers: { authorization: `Bearer ${API_TOKEN}`, ...headers } }),
  );
}

function post(body: string, token = API_TOKEN) {
  return stack.request(
    apiGatewayEvent({
      method: "POST",
      url: "/reports",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    }),
  );
}

const json = (body: string | undefined): unknown => JSON.parse(body ?? "");

/** The run's steps' logs, to show when a run fails. */
const logs = () =>
  STEPS.map((id) => `${id}:\n${stack.functions.get(id)?.process.logs() ?? ""}`).join("\n");

/** The event EventBridge Scheduler sends: the template's Input, its placeholder filled in. */
function scheduledEvent(scheduledTime: number): unknown {
  const schedules = Object.values(stack.template.Resources).filter(
    (r) => r.Type === "AWS::Scheduler::Schedule",
  );
  expect(schedules).toHaveLength(1);
  const target = schedules[0]?.Properties?.Target as { Input?: string } | undefined;
  const input = target?.Input ?? "";
  const iso = new Date(scheduledTime).toISOString().replace(/\.\d{3}Z$/, "Z");
  return JSON.parse(input.replaceAll("<aws.scheduler.scheduled-time>", iso));
}

describe(`the deployed stack (stage ${STAGE}, packaged, each function in its own process)`, () => {
  it("runs every function of the template, and each gets only its own settings", () => {
    expect([...stack.functions.keys()].sort()).toEqual([
      "CreateLinkLambdaFunction",
      "GetMonthFileLambdaFunction",
      "GetMonthLambdaFunction",
      "GetMonthSourceLambdaFunction",
      "GetReportFileLambdaFunction",
      "GetReportLambdaFunction",
      "GetReportSourceLambdaFunction",
      "ListMonthsLambdaFunction",
      "ListReportsLambdaFunction",
      "PlanLambdaFunction",
      "PostReportsLambdaFunction",
      "PublishLambdaFunction",
      "RecordFailureLambdaFunction",
      "ScanSourceLambdaFunction",
    ]);
    for (const fn of stack.functions.values()) {
      const names = Object.keys(fn.templateVariables);
      if (fn.logicalId === "RecordFailureLambdaFunction") {
        // Where alerts.json is, the time zone of the scheduled date, and the topic: no more.
        expect(names.filter((n) => /^(MODELARTS_|REPORT_API|REPORT_LINK|IAM_)/.test(n))).toEqual(
          [],
        );
        expect(fn.templateVariables.REPORT_TOPIC_ARN).toBe(stack.sns.topics[0]);
      } else if (STEPS.includes(fn.logicalId)) {
        expect(names).toContain("MODELARTS_CREDENTIALS_SECRET");
        expect(names).not.toContain("REPORT_API_TOKEN_SECRET");
      } else {
        // The API functions never see the upstream's settings.
        expect(
          names.filter((n) => n.startsWith("MODELARTS_")),
          fn.logicalId,
        ).toEqual([]);
        expect(names, fn.logicalId).toContain("REPORT_API_TOKEN_SECRET");
      }
    }
  });

  it("records a scheduled run that fails for good as a run_failed alert, sends it once, and fails the execution with the run's own error", async () => {
    // The day before yesterday's scheduled run, before any other: no alerts.json yet.
    const scheduled = startOfDay(day, TIME_ZONE) + 30 * 60_000;
    const date = addDays(day, -1);
    expect(await object("alerts.json")).toBeUndefined();
    const latest = (await object("latest.json"))?.toString();
    const failing = () => {
      // A refusal: not retried by the client or the state machine.
      sim.queueFaults({ kind: "status", status: 403 });
      return stack.execute({ name: randomUUID(), input: scheduledEvent(scheduled) });
    };
    const run = await failing();
    expect(run).toMatchObject({ status: "FAILED", error: "StepFailedError" });
    expect(run.status === "FAILED" && JSON.parse(run.cause)).toMatchObject({
      errorType: "StepFailedError",
    });
    // The execution ended as it failed; EventBridge told RecordFailure, which raised the alert.
    expect(run.calls.map((c) => c.state)).toEqual(["Plan", "ScanSource"]);
    expect(run.deliveries).toEqual([
      {
        rule: "RunEndedRule",
        function: "RecordFailureLambdaFunction",
        attempts: [
          expect.objectContaining({
            ok: true,
            result: { alert: `run_failed:${date}`, raised: true },
          }),
        ],
      },
    ]);
    expect(await object("latest.json").then((b) => b?.toString())).toBe(latest);
    const stored = JSON.parse((await object("alerts.json"))?.toString() ?? "");
    expect(stored.alerts).toEqual([
      expect.objectContaining({
        id: `run_failed:${date}`,
        kind: "run_failed",
        period: date,
        budget: null,
        state: null,
        limit: null,
      }),
    ]);
    expect(stored.alerts[0].message).toContain(
      `the scheduled run for ${date} failed (StepFailedError)`,
    );
    const record = stack.functions.get("RecordFailureLambdaFunction");
    const sent = () =>
      stack.sns.published.filter(
        (m) => m.subject === `ModelArts usage ${date} - the scheduled run failed`,
      );
    expect(sent()).toHaveLength(1);
    expect(sent()[0]?.accessKeyId).toBe(record?.accessKeyId);
    expect(sent()[0]?.message).toContain(stored.alerts[0].message);
    // The schedule's retry of the same date fails again: nothing new is raised or sent.
    const again = await failing();
    expect(again).toMatchObject({ status: "FAILED", error: "StepFailedError" });
    expect(sent()).toHaveLength(1);
    expect(JSON.parse((await object("alerts.json"))?.toString() ?? "").alerts).toHaveLength(1);
  });

  it("writes yesterday's report when EventBridge Scheduler starts the run at 00:30", async () => {
    const scheduled = startOfDay(localDate(Date.now(), TIME_ZONE), TIME_ZONE) + 30 * 60_000;
    const name = randomUUID();
    const run = await stack.execute({ name, input: scheduledEvent(scheduled) });
    expect(run, logs()).toMatchObject({ status: "SUCCEEDED" });
    expect(run.status === "SUCCEEDED" && run.output).toMatchObject({ dates: [day], latest: day });
    // Plan, one scan (one source), Publish: each once.
    expect(run.calls.map((c) => c.state)).toEqual(["Plan", "ScanSource", "Publish"]);
    // A success matches no rule: RecordFailure is not told.
    expect(run.deliveries).toEqual([]);
    // Publish deleted the run's partial, and left its mark that it published (for a retry of a
    // Publish that had in fact finished), which the lifecycle rule on runs/ removes.
    expect(await keys("runs/")).toEqual([`runs/${name}/published.json`]);
    // The day's files, and the digest the scheduled run sent (report.md §11).
    expect(await keys(`daily/${day}/`)).toEqual(
      ["digest.txt", "jobs.csv", "manifest.json", "report.json", "sources.csv", "usage.csv"].map(
        (f) => `daily/${day}/${f}`,
      ),
    );
    const report = JSON.parse((await object(`daily/${day}/report.json`))?.toString() ?? "");
    expect(report).toMatchObject({
      report_date: day,
      timezone: TIME_ZONE,
      source: { endpoint: sim.url, project_id: PROJECT, versions_scanned: versionCount },
    });
    expect(report.totals.versions_active).toBeGreaterThan(0);
    const latest = JSON.parse((await object("latest.json"))?.toString() ?? "");
    expect(latest).toMatchObject({ report_date: day });
    // The credentials came from the secret the template names, read at run time.
    const credentials = stack.functions.get("ScanSourceLambdaFunction")?.templateVariables
      .MODELARTS_CREDENTIALS_SECRET;
    expect(stack.secrets.requests.map((r) => r.secretId)).toContain(credentials);
    expect(sim.requests.listing).toBeGreaterThan(0);
  });

  it("sends the scheduled run's digest to the stack's topic, once, with a week's link that opens the day's page", async () => {
    // Published by Publish, to the topic its template variable names (the one alarmEmail
    // subscribes), as SNS's Query protocol carries it.
    const publish = stack.functions.get("PublishLambdaFunction");
    const digests = stack.sns.published.filter((m) =>
      m.subject?.startsWith(`ModelArts usage ${day}`),
    );
    expect(digests, stack.functions.get("PublishLambdaFunction")?.process.logs()).toHaveLength(1);
    const [digest] = digests;
    expect(digest?.topicArn).toBe(publish?.templateVariables.REPORT_TOPIC_ARN);
    expect(digest?.accessKeyId).toBe(publish?.accessKeyId);
    expect(digest?.message).toBe((await object(`daily/${day}/digest.txt`))?.toString());
    const report = JSON.parse((await object(`daily/${day}/report.json`))?.toString() ?? "");
    expect(digest?.message).toContain(`ModelArts usage ${day} (${TIME_ZONE})`);
    expect(digest?.message).toContain(`versions active ${report.totals.versions_active}`);
    // The link: this stack's API (the template's REPORT_API_URL), signed with the stack's key.
    const url = /The day's page \(7 days\): (\S+)/.exec(digest?.message ?? "")?.[1] ?? "";
    const link = new URL(url);
    expect(link.origin).toBe(stack.apiUrl);
    expect(link.pathname).toBe(`/reports/${day}`);
    const expires = Number(link.searchParams.get("expires"));
    expect(expires * 1000 - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(expires * 1000 - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
    const page = await stack.request(
      apiGatewayEvent({ url: `${link.pathname}${link.search}`, headers: { accept: "text/html" } }),
    );
    expect(page.statusCode, page.body).toBe(200);
    expect(page.headers?.["content-type"]).toContain("text/html");
    expect(page.body).toContain(day);
    // A retried execution of the same schedule publishes again, but sends no second digest.
    const scheduled = startOfDay(localDate(Date.now(), TIME_ZONE), TIME_ZONE) + 30 * 60_000;
    const retried = await stack.execute({ name: randomUUID(), input: scheduledEvent(scheduled) });
    expect(retried.status).toBe("SUCCEEDED");
    expect(
      stack.sns.published.filter((m) => m.subject?.startsWith(`ModelArts usage ${day}`)),
    ).toHaveLength(1);
    expect((await object(`daily/${day}/digest.txt`))?.toString()).toBe(digest?.message);
  });

  it("writes the month that ended, once, on the first scheduled run after it", async () => {
    const ended = lastEndedMonth(Date.now(), TIME_ZONE);
    expect(await keys(`monthly/${ended}/`)).toEqual(
      ["jobs.csv", "manifest.json", "report.json", "sources.csv", "usage.csv"].map(
        (f) => `monthly/${ended}/${f}`,
      ),
    );
    const report = JSON.parse((await object(`monthly/${ended}/report.json`))?.toString() ?? "");
    expect(report).toMatchObject({ report_month: ended, timezone: TIME_ZONE });
    expect(JSON.parse((await object("latest-month.json"))?.toString() ?? "")).toMatchObject({
      report_month: ended,
    });
    // The next scheduled run does not write it again.
    const before = (await object(`monthly/${ended}/report.json`))?.toString();
    const scheduled = startOfDay(localDate(Date.now(), TIME_ZONE), TIME_ZONE) + 30 * 60_000;
    const again = await stack.execute({ name: randomUUID(), input: scheduledEvent(scheduled) });
    expect(again.status === "SUCCEEDED" && again.output).toMatchObject({
      dates: [day],
      month: null,
    });
    expect((await object(`monthly/${ended}/report.json`))?.toString()).toBe(before);
  });

  it("answers the month routes: the listing, the latest month, its CSV, page and files", async () => {
    const ended = lastEndedMonth(Date.now(), TIME_ZONE);
    const listing = await get("/reports/months");
    expect(listing.statusCode).toBe(200);
    expect(json(listing.body)).toMatchObject({ months: [{ report_month: ended }] });
    const latest = await get("/reports/months/latest");
    expect(latest.statusCode).toBe(200);
    expect(latest.body).toBe((await object(`monthly/${ended}/report.json`))?.toString());
    const csv = await get(`/reports/months/${ended}?format=csv`);
    expect(csv.body).toBe((await object(`monthly/${ended}/usage.csv`))?.toString());
    const page = await get(`/reports/months/${ended}?format=html`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(ended);
    const file = await get(`/reports/months/${ended}/files/usage.csv`);
    expect(file.statusCode).toBe(302);
    const download = await fetch(String(file.headers?.location));
    expect(Buffer.from(await download.arrayBuffer())).toEqual(
      await object(`monthly/${ended}/usage.csv`),
    );
  });

  it("answers GET /reports with the stored dates", async () => {
    const answer = await get("/reports");
    expect(answer.statusCode).toBe(200);
    expect(json(answer.body)).toMatchObject({ reports: [{ report_date: day }], next_cursor: null });
  });

  it("answers GET /reports/latest and /reports/{date} with the stored report.json", async () => {
    const stored = (await object(`daily/${day}/report.json`))?.toString();
    for (const path of ["/reports/latest", `/reports/${day}`]) {
      const answer = await get(path);
      expect(answer.statusCode, path).toBe(200);
      expect(answer.headers?.["content-type"]).toBe("application/json; charset=utf-8");
      expect(answer.body).toBe(stored);
      const etag = String(answer.headers?.etag);
      expect((await get(path, { "if-none-match": etag })).statusCode).toBe(304);
    }
  });

  it("answers ?format=csv with usage.csv and ?format=html with the page", async () => {
    const csv = await get(`/reports/${day}?format=csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers?.["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.body).toBe((await object(`daily/${day}/usage.csv`))?.toString());
    const html = await get(`/reports/${day}?format=html`);
    expect(html.statusCode).toBe(200);
    expect(html.headers?.["content-type"]).toBe("text/html; charset=utf-8");
    expect(html.body).toContain(`ModelArts usage ${day}`);
  });

  it.each(["report.json", "usage.csv", "jobs.csv", "manifest.json"])(
    "redirects /files/%s to a presigned S3 URL that returns the file's bytes",
    async (name) => {
      const answer = await get(`/reports/${day}/files/${name}`);
      expect(answer.statusCode).toBe(302);
      const location = String(answer.headers?.location);
      expect(location.startsWith(`${stack.s3.endpoint}/${stack.bucket}/reports/daily/`)).toBe(true);
      const download = await fetch(location);
      expect(download.status).toBe(200);
      expect(download.headers.get("content-disposition")).toBe(
        `attachment; filename="${day}-${name}"`,
      );
      expect(Buffer.from(await download.arrayBuffer())).toEqual(
        await object(`daily/${day}/${name}`),
      );
    },
  );

  it("answers 401 with a challenge for a wrong token on every route", async () => {
    const wrong = { authorization: `Bearer ${API_TOKEN}x` };
    const events = [
      apiGatewayEvent({ url: "/reports", headers: wrong }),
      apiGatewayEvent({ url: "/reports/latest", headers: wrong }),
      apiGatewayEvent({ url: `/reports/${day}/files/usage.csv`, headers: wrong }),
      apiGatewayEvent({
        method: "POST",
        url: "/reports",
        headers: { ...wrong, "content-type": "application/json" },
        body: `{"date":"${day}"}`,
      }),
    ];
    for (const event of events) {
      const answer = await stack.request(event);
      expect(answer.statusCode, event.routeKey).toBe(401);
      expect(answer.headers?.["www-authenticate"]).toBe("Bearer");
      expect(json(answer.body)).toMatchObject({ error: { code: "unauthorized" } });
    }
  });

  it("starts one execution named by the request for POST /reports, which writes the dates", async () => {
    const before = stack.stepFunctions.executions.length;
    const date = addDays(day, -2);
    const answer = await post(`{"date":"${date}"}`);
    expect(answer.statusCode, answer.body).toBe(202);
    expect(json(answer.body)).toEqual({ dates: [date] });
    const started = stack.stepFunctions.executions.slice(before);
    expect(started).toHaveLength(1);
    const [execution] = started;
    if (execution === undefined) throw new Error("no execution");
    expect(execution.stateMachineArn).toBe(
      stack.routeFunction("POST /reports").templateVariables.REPORT_STATE_MACHINE_ARN,
    );
    // Named by the request's id, which the pending regeneration and the input both carry.
    const input = JSON.parse(execution.input);
    expect(input).toEqual({ dates: [date], request_id: execution.name });
    const pending = JSON.parse((await object("regenerations.json"))?.toString() ?? "");
    expect(pending.pending.map((p: { id: string }) => p.id)).toEqual([execution.name]);
    // Signed with the function's role, for Step Functions.
    expect(execution).toMatchObject({ region: REGION, service: "states" });

    // While it runs, the same POST again is refused with what is pending; nothing is started.
    const again = await post(`{"date":"${date}"}`);
    expect(again.statusCode).toBe(409);
    expect(json(again.body)).toMatchObject({
      error: { code: "regeneration_pending", pending: [{ from: date, to: date }] },
    });
    expect(stack.stepFunctions.executions.length).toBe(before + 1);

    // Step Functions runs it: the run writes the date and clears the entry.
    const run = await stack.execute(execution);
    expect(run, logs()).toMatchObject({ status: "SUCCEEDED" });
    expect(await keys(`daily/${date}/`)).toHaveLength(5);
    const queue = JSON.parse((await object("regenerations.json"))?.toString() ?? "");
    expect(queue).toEqual({ pending: [] });
    // latest.json stays on the newer day.
    expect(JSON.parse((await object("latest.json"))?.toString() ?? "")).toMatchObject({
      report_date: day,
    });
  });

  it("refuses POST /reports for a day that has not ended, and a body that is not JSON", async () => {
    const today = localDate(Date.now(), TIME_ZONE);
    const future = await post(`{"date":"${today}"}`);
    expect(future.statusCode).toBe(400);
    expect(json(future.body)).toMatchObject({ error: { code: "invalid_date" } });
    const broken = await post("{");
    expect(broken.statusCode).toBe(400);
    expect(json(broken.body)).toMatchObject({ error: { code: "invalid_json" } });
  });

  it("fails the run at Plan, for good, not the API, when the upstream is not configured", async () => {
    // The template's value when `modelartsEndpoint` is not given at deploy time.
    const variant = await stack.startVariant("PlanLambdaFunction", { MODELARTS_ENDPOINT: "" });
    const result = await variant.invoke({ event: scheduledEvent(Date.now()), run_id: "r-1" });
    // StepFailedError: the state machine does not retry it; the execution fails and alarms.
    expect(result).toMatchObject({ ok: false, errorType: "StepFailedError" });
    expect(variant.logs()).toContain(
      "MODELARTS_ENDPOINT or REPORT_SOURCES is required when running in AWS",
    );
    expect((await get("/reports/latest")).statusCode).toBe(200);
  });

  it("makes a signed link with POST /links that opens the page and its download without the token", async () => {
    const host = "r3pap1.execute-api.eu-central-1.amazonaws.com";
    const made = await stack.request(
      apiGatewayEvent({
        method: "POST",
        url: "/links",
        headers: {
          host,
          authorization: `Bearer ${API_TOKEN}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ path: "/reports/latest?format=html", ttl: "1h" }),
      }),
    );
    expect(made.statusCode, made.body).toBe(201);
    const link = new URL((json(made.body) as { url: string }).url);
    expect(link.origin).toBe(`https://${host}`);
    // The key came from the secret the template names.
    const keySecret = stack.routeFunction("POST /links").templateVariables.REPORT_LINK_KEY_SECRET;
    expect(stack.secrets.requests.map((r) => r.secretId)).toContain(keySecret);

    const browser = { accept: "text/html,*/*;q=0.8" };
    const page = await stack.request(
      apiGatewayEvent({ url: `${link.pathname}${link.search}`, headers: browser }),
    );
    expect(page.statusCode).toBe(200);
    expect(page.headers?.["content-security-policy"]).toContain("sandbox allow-downloads");
    const csv = /href="([^"]*usage\.csv[^"]*)"/
      .exec(page.body ?? "")?.[1]
      ?.replaceAll("&amp;", "&");
    expect(csv).toBeDefined();
    const redirect = await stack.request(apiGatewayEvent({ url: csv ?? "", headers: browser }));
    expect(redirect.statusCode).toBe(302);
    const download = await fetch(String(redirect.headers?.location));
    expect(Buffer.from(await download.arrayBuffer())).toEqual(
      await object(`daily/${day}/usage.csv`),
    );
    // That download link is for the one file: it opens neither the day's page nor another file.
    const query = (csv ?? "").slice((csv ?? "").indexOf("?"));
    for (const url of [`/reports/${day}${query}`, `/reports/${day}/files/jobs.csv${query}`]) {
      const refused = await stack.request(apiGatewayEvent({ url, headers: browser }));
      expect(refused.statusCode, url).toBe(403);
    }

    link.searchParams.set("scope", "list");
    const tampered = await stack.request(
      apiGatewayEvent({ url: `${link.pathname}${link.search}`, headers: browser }),
    );
    expect(tampered.statusCode).toBe(403);
    expect(tampered.body).toContain("This link does not open this page");
  });

  it("keeps the API token, the SK and the role's keys out of every function's logs", () => {
    for (const fn of stack.functions.values()) {
      const logs = fn.process.logs();
      for (const secret of [API_TOKEN, SK, LINK_KEY, fn.env.AWS_SECRET_ACCESS_KEY ?? "?"]) {
        expect(logs.includes(secret), `${fn.logicalId} logged a secret`).toBe(false);
      }
      expect(logs, `${fn.logicalId} logged a signature`).not.toMatch(
        /signature=[A-Za-z0-9_-]{20,}|X-Amz-Signature=[0-9a-f]{20,}/i,
      );
    }
  });

  it.runIf(node22Present())("runs every function on the Node major of its template Runtime", () => {
    for (const fn of stack.functions.values()) {
      const runtime = stack.template.Resources[fn.logicalId]?.Properties?.Runtime;
      // nodejs22.x → v22.*
      const major = String(runtime).match(/^nodejs(\d+)\.x$/)?.[1];
      expect(major, `${fn.logicalId} Runtime ${String(runtime)}`).toBeDefined();
      expect(fn.process.nodeVersion, fn.logicalId).toMatch(new RegExp(`^v${major}\\.`));
    }
  });

  // Last, on purpose: it audits the AWS calls every test above made.
  it("made every AWS call with a role of the template that allows it (IAM audit)", () => {
    const audit = auditStack(stack);
    expect(audit.unattributed, "calls that no role of the template can be held to").toEqual([]);
    const denied = audit.calls.filter((c) => c.decision.effect !== "Allow").map(describeCall);
    expect(
      denied,
      `calls the template's roles deny:\n${denied.join("\n")}\nby role: ${JSON.stringify(countsByRole(audit))}`,
    ).toEqual([]);

    // What each role is there for was seen, signed with its function's own key: the recorder
    // is not silently empty, and each role's grants are held against real calls.
    const bucket = `arn:aws:s3:::${stack.bucket}`;
    const secret = (id: string) => stack.resolve({ Ref: id }, id);
    const fn = (id: string) => stack.resolve({ "Fn::GetAtt": [id, "Arn"] }, id);
    const topic = stack.resolve({ Ref: "AlarmTopic" }, "topic");
    const needs: [string, string, string][] = [
      ["PlanFunctionRole", "s3:GetObject", `${bucket}/reports/latest-month.json`],
      [
        "ScanSourceFunctionRole",
        "secretsmanager:GetSecretValue",
        secret("ModelArtsCredentialsSecret"),
      ],
      ["ScanSourceFunctionRole", "s3:PutObject", `${bucket}/reports/runs/*`],
      ["PublishFunctionRole", "s3:GetObject", `${bucket}/reports/runs/*`],
      ["PublishFunctionRole", "s3:PutObject", `${bucket}/reports/daily/*`],
      ["PublishFunctionRole", "s3:PutObject", `${bucket}/reports/monthly/*`],
      ["PublishFunctionRole", "s3:PutObject", `${bucket}/reports/run.lock`],
      ["PublishFunctionRole", "s3:DeleteObject", `${bucket}/reports/run.lock`],
      ["PublishFunctionRole", "s3:DeleteObject", `${bucket}/reports/runs/*`],
      ["PublishFunctionRole", "s3:ListBucket", bucket],
      ["PublishFunctionRole", "sns:Publish", topic],
      ["RecordFailureFunctionRole", "s3:GetObject", `${bucket}/reports/alerts.json`],
      ["RecordFailureFunctionRole", "s3:PutObject", `${bucket}/reports/alerts.json`],
      ["RecordFailureFunctionRole", "sns:Publish", topic],
      ["PublishFunctionRole", "secretsmanager:GetSecretValue", secret("LinkKeySecret")],
      ["ApiFunctionRole", "s3:GetObject", `${bucket}/reports/daily/*`],
      ["ApiFunctionRole", "s3:GetObject", `${bucket}/reports/monthly/*`],
      ["ApiFunctionRole", "s3:PutObject", `${bucket}/reports/regenerations.json`],
      ["ApiFunctionRole", "s3:ListBucket", bucket],
      ["ApiFunctionRole", "secretsmanager:GetSecretValue", secret("ApiTokenSecret")],
      ["ApiFunctionRole", "secretsmanager:GetSecretValue", secret("LinkKeySecret")],
      ["ApiFunctionRole", "states:StartExecution", stack.stateMachineArn],
      ["ReportStateMachineRole", "lambda:InvokeFunction", fn("PlanLambdaFunction")],
      ["ReportStateMachineRole", "lambda:InvokeFunction", fn("ScanSourceLambdaFunction")],
      ["ReportStateMachineRole", "lambda:InvokeFunction", fn("PublishLambdaFunction")],
      ["ReportSchedulerRole", "states:StartExecution", stack.stateMachineArn],
    ];
    const unseen = needs.filter(([role, action, resource]) => {
      return callsFor(audit, role, action, resource).length === 0;
    });
    expect(unseen, "grants no recorded call used").toEqual([]);
    // A presigned download is the API role's GetObject: S3 checks the signer's permissions.
    const presigned = audit.calls.filter((c) => c.seen.startsWith("presigned GET"));
    expect(presigned.length).toBeGreaterThan(0);
    expect(new Set(presigned.map((c) => c.role))).toEqual(new Set(["ApiFunctionRole"]));

    // A GET of a missing key answers 404 only to a caller that may s3:ListBucket; S3 answers
    // anyone else 403 AccessDenied. The one such read: Plan's of latest-month.json before any
    // month is reported, which requestOf (src/handlers/report-event.ts) reads with
    // `.catch(() => undefined)`, so a 403 means "no month reported yet" there too.
    expect([
      ...new Set(audit.missingKeyWithoutList.map((c) => `${c.caller} ${c.request.resource}`)),
    ]).toEqual([`PlanLambdaFunction ${bucket}/reports/latest-month.json`]);
  });

  it("denies what the template's roles do not grant: a run's partial to the API, a report to ScanSource", () => {
    const statementsOf = (functionId: string) => {
      const role = stack.functions.get(functionId)?.role ?? "";
      return roleStatements(stack.template, role, stack.resolve);
    };
    const object = (key: string) => `arn:aws:s3:::${stack.bucket}/${key}`;
    const api = statementsOf("GetReportLambdaFunction");
    // The API may read reports/*, but the explicit Deny on reports/runs/* wins.
    expect(
      evaluate({ action: "s3:GetObject", resource: object("reports/runs/r-1/0-ab.json.gz") }, api),
    ).toMatchObject({ effect: "ExplicitDeny", statement: { where: "ApiFunctionRole/api#5" } });
    expect(
      evaluate({ action: "s3:GetObject", resource: object(`reports/daily/${day}/usage.csv`) }, api)
        .effect,
    ).toBe("Allow");
    // The API writes regenerations.json and nothing else.
    expect(
      evaluate({ action: "s3:PutObject", resource: object("reports/latest.json") }, api).effect,
    ).toBe("ImplicitDeny");
    const scan = statementsOf("ScanSourceLambdaFunction");
    expect(
      evaluate(
        { action: "s3:PutObject", resource: object(`reports/daily/${day}/report.json`) },
        scan,
      ).effect,
    ).toBe("ImplicitDeny");
    expect(
      evaluate({ action: "s3:PutObject", resource: object("reports/runs-x/0.json.gz") }, scan)
        .effect,
    ).toBe("ImplicitDeny");
    expect(
      evaluate({ action: "s3:PutObject", resource: object("reports/runs/r-1/0-ab.json.gz") }, scan)
        .effect,
    ).toBe("Allow");
    // Publish lists under reports/ only: the condition on s3:prefix is evaluated, not ignored.
    const publish = statementsOf("PublishLambdaFunction");
    const list = (context: Record<string, string>) =>
      evaluate(
        { action: "s3:ListBucket", resource: `arn:aws:s3:::${stack.bucket}`, context },
        publish,
      ).effect;
    expect([
      list({ "s3:prefix": "reports/daily/" }),
      list({ "s3:prefix": "config/" }),
      list({}),
    ]).toEqual(["Allow", "ImplicitDeny", "ImplicitDeny"]);
  });
});
