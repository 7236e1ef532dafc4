import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReportConfig } from "../../src/app/config.js";
import { runConfiguredReport } from "../../src/app/run.js";
import { addDays, localDate, startOfDay } from "../../src/report/time.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { apiGatewayEvent } from "../helpers/apigw.js";
import { PACKAGE_TIMEOUT_MS } from "../helpers/serverless-package.js";
import { auditStack, callsFor, countsByRole, describeCall } from "./iam-audit.js";
import { ACCOUNT, REGION, type Stack, startStack } from "./stack.js";

/**
 * The organisation's run as deployed (report.md §10): REPORT_SOURCES given as the stack's
 * parameter, a `"*"` source read with the stack's own credentials, another with its own
 * Secrets Manager secret under modelarts-usage-report/<stage>/sources/, the run's packaged
 * functions (Plan, ScanSource per source, Publish) each in its own process with the template's
 * environment, chained by the compiled state machine definition.
 */

const STAGE = "org";
const VISION = "5f3c9a1e7b2d4c6e8a0b1c2d3e4f5a6b";
const EU_SECRET = `modelarts-usage-report/${STAGE}/sources/eu-prod`;
const EU_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${EU_SECRET}-Xy12Zw`;
const STEPS = ["PlanLambdaFunction", "ScanSourceLambdaFunction", "PublishLambdaFunction"];
/** A budget the data crosses: Publish reads REPORT_BUDGETS from the template (§11). */
const BUDGETS = JSON.stringify({
  budgets: [
    { name: "eu-gpu-day", period: "day", metric: "gpu_hours", limit: 0, source: "eu-prod" },
  ],
});
/** The pseudo parameters of a Fn::Sub, as this stack's account and region give them. */
const PSEUDO: Record<string, string> = { Partition: "aws", Region: REGION, AccountId: ACCOUNT };

let dir: string;
let research: Simulator;
let eu: Simulator;
let stack: Stack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deployed-org-"));
  const now = Date.now();
  const workload = (n: number, seed: number, workspace: string) =>
    generateWorkload({ versions: n, seed, now, days: 4 }).map((v) => ({
      ...v,
      workspace_id: workspace,
    }));
  research = await startSimulator({
    projectId: "p-research",
    versions: [...workload(200, 31, "0"), ...workload(150, 32, VISION)],
    auth: { tokens: ["research-token"] },
    workspaces: [
      { id: "0", name: "default" },
      { id: VISION, name: "Vision Team" },
    ],
  });
  eu = await startSimulator({
    projectId: "p-eu",
    versions: workload(120, 33, "0"),
    auth: { aksk: [{ ak: "EUAK", sk: "eu-secret-key" }] },
  });
  stack = await startStack({
    dir,
    stage: STAGE,
    params: {
      reportSources: JSON.stringify([
        { name: "research", endpoint: research.url, project_id: "p-research", workspace_id: "*" },
        { name: "eu-prod", endpoint: eu.url, project_id: "p-eu", credentials: EU_SECRET },
      ]),
      reportBudgets: BUDGETS,
    },
    secretValues: {
      ApiTokenSecret: "api-token",
      LinkKeySecret: "link-key-0123456789abcdefghijklmnopqrstuvwxyz",
      ModelArtsCredentialsSecret: JSON.stringify({ token: "research-token" }),
    },
  });
  stack.secrets.setSecret(
    { arn: EU_SECRET_ARN, name: EU_SECRET },
    JSON.stringify({ ak: "EUAK", sk: "eu-secret-key" }),
  );
}, PACKAGE_TIMEOUT_MS);

afterAll(async () => {
  await stack?.close();
  await research?.close();
  await eu?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function object(key: string): Promise<string> {
  const res = await stack.s3.client.send(
    new GetObjectCommand({ Bucket: stack.bucket, Key: `reports/${key}` }),
  );
  return (await res.Body?.transformToString("utf8")) ?? "";
}

/** Whether an IAM resource pattern (`*` any run, `?` one character) matches `arn`. */
const matches = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replaceAll("*", ".*")
      .replaceAll("?", ".")}$`,
  ).test(arn);

describe("the organisation's scheduled run, deployed", () => {
  it("reports every workspace of one project and a second project with its own secret", async () => {
    const timeZone = "UTC";
    const day = addDays(localDate(Date.now(), timeZone), -1);
    const scheduled = startOfDay(localDate(Date.now(), timeZone), timeZone) + 30 * 60_000;
    const event = {
      source: "schedule",
      scheduled_time: new Date(scheduled).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    const logs = () => STEPS.map((id) => stack.functions.get(id)?.process.logs()).join("\n");
    const run = await stack.execute({ name: "org-run-1", input: event });
    expect(run, logs()).toMatchObject({
      status: "SUCCEEDED",
      output: { sources: ["research.default", "research.vision-team", "eu-prod"] },
    });
    // One ScanSource per source, each given the plan and its own index.
    const scans = run.calls.filter((c) => c.state === "ScanSource");
    expect(scans.map((c) => (c.input as { index: number }).index).sort()).toEqual([0, 1, 2]);
    const report = JSON.parse(await object(`daily/${day}/report.json`));
    expect(report.sources.map((s: { name: string }) => s.name)).toEqual([
      "research.default",
      "research.vision-team",
      "eu-prod",
    ]);
    expect(report.source.versions_scanned).toBe(200 + 150 + 120);
    // The budget of the stack's parameter, in the report and raised as an alert.
    const euRow = report.by_source.find((r: { source: string }) => r.source === "eu-prod");
    expect(report.budgets).toEqual([
      {
        name: "eu-gpu-day",
        period: "day",
        metric: "gpu_hours",
        limit: 0,
        actual: euRow.gpu_hours,
        forecast: null,
        state: euRow.gpu_hours > 0 ? "over" : "ok",
      },
    ]);
    const alerts = JSON.parse(await object("alerts.json")).alerts.map((a: { id: string }) => a.id);
    expect(alerts).toContain(`budget:eu-gpu-day:${day}:over`);
    // The scheduled run's digest, on the stack's topic, names the budget and the new alert.
    const digest = stack.sns.published.find((m) => m.subject?.startsWith(`ModelArts usage ${day}`));
    expect(digest?.subject).toBe(`ModelArts usage ${day} - 1 new alert`);
    expect(digest?.message).toContain("eu-gpu-day (day): over");
    expect(digest?.message).toContain(`  - budget eu-gpu-day (day ${day}) is over its limit`);
    expect(report.by_source).toHaveLength(3);
    expect(await object(`daily/${day}/sources.csv`)).toMatch(/^report_date,source,flavor_code/);
    // The secret was read at run time, and the scan's role may read it.
    expect(stack.secrets.requests.map((r) => r.secretId)).toContain(EU_SECRET);
    const role = stack.template.Resources.ScanSourceFunctionRole?.Properties as {
      Policies: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } }[];
    };
    const resources = role.Policies.flatMap((p) => p.PolicyDocument.Statement)
      .filter((s) => s.Action === "secretsmanager:GetSecretValue")
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
      .map((r) => (typeof r === "object" && r !== null && "Fn::Sub" in r ? r["Fn::Sub"] : r))
      .filter((r): r is string => typeof r === "string")
      .map((r) => r.replace(/\$\{AWS::(\w+)\}/g, (_, name: string) => PSEUDO[name] ?? name));
    expect(resources.some((r) => matches(r, EU_SECRET_ARN))).toBe(true);
    expect(
      resources.some((r) => matches(r, `${EU_SECRET_ARN.replace("/sources/", "/other/")}`)),
    ).toBe(false);
    // No credential reached a log.
    expect(logs()).not.toMatch(/eu-secret-key|research-token/);

    // A team's slice through its packaged route function, and a link scoped to it.
    const slice = await stack.request(
      apiGatewayEvent({
        url: `/reports/${day}/sources/research.vision-team`,
        headers: { authorization: "Bearer api-token" },
      }),
    );
    expect(slice.statusCode, slice.body).toBe(200);
    const body = JSON.parse(slice.body ?? "");
    expect(body.source).toMatchObject({ name: "research.vision-team", workspace_id: VISION });
    expect(body.totals.gpu_hours).toBe(
      report.by_source.find((r: { source: string }) => r.source === "research.vision-team")
        .gpu_hours,
    );
    const made = await stack.request(
      apiGatewayEvent({
        method: "POST",
        url: "/links",
        headers: { authorization: "Bearer api-token", "content-type": "application/json" },
        body: JSON.stringify({ path: `/reports/${day}/sources/eu-prod`, ttl: "1h" }),
      }),
    );
    expect(made.statusCode, made.body).toBe(201);
    const link = new URL(JSON.parse(made.body ?? "").url);
    const open = (path: string) =>
      stack.request(
        apiGatewayEvent({ url: `${path}${link.search}`, headers: { accept: "text/html" } }),
      );
    expect((await open(`/reports/${day}/sources/eu-prod`)).statusCode).toBe(200);
    expect((await open(`/reports/${day}/sources/research.default`)).statusCode).toBe(403);
    expect((await open(`/reports/${day}/files/jobs.csv`)).statusCode).toBe(403);

    // The same bytes as the command line in one process, for the same sources at the plan's
    // instant (the manifest's scan_started_at): only how credentials are found differs.
    const manifest = JSON.parse(await object(`daily/${day}/manifest.json`));
    const cliRoot = join(dir, "cli");
    const config = loadReportConfig({
      REPORT_STORAGE: `file://${cliRoot}`,
      REPORT_SOURCES: JSON.stringify([
        { name: "research", endpoint: research.url, project_id: "p-research", workspace_id: "*" },
        { name: "eu-prod", endpoint: eu.url, project_id: "p-eu", credentials: "env:EU" },
      ]),
      MODELARTS_TOKEN: "research-token",
      REPORT_BUDGETS: BUDGETS,
      EU_MODELARTS_AK: "EUAK",
      EU_MODELARTS_SK: "eu-secret-key",
    });
    await runConfiguredReport(
      config,
      { dates: [day] },
      { now: Date.parse(manifest.scan_started_at) },
    );
    for (const name of ["report.json", "usage.csv", "jobs.csv", "sources.csv", "manifest.json"]) {
      expect(await object(`daily/${day}/${name}`), name).toBe(
        await readFile(join(cliRoot, "daily", day, name), "utf8"),
      );
    }
  });

  it("retries a source that fails twice alone, and publishes", async () => {
    const requests = () => ({ research: research.requests.listing, eu: eu.requests.listing });
    // A clean run first, for what one scan of each project costs in requests.
    const start = requests();
    const clean = await stack.execute({
      name: "org-run-clean",
      input: { dates: [addDays(localDate(Date.now(), "UTC"), -4)] },
    });
    expect(clean.status).toBe("SUCCEEDED");
    const once = { research: requests().research - start.research, eu: requests().eu - start.eu };

    const day = addDays(localDate(Date.now(), "UTC"), -3);
    const before = requests();
    // Each ScanSource attempt makes 5 requests (the client's own attempts): two attempts fail.
    const throttled = { kind: "status", status: 429, retryAfterSeconds: 0 } as const;
    eu.queueFaults(...Array.from({ length: 10 }, () => throttled));
    const run = await stack.execute({ name: "org-run-2", input: { dates: [day] } });
    expect(run.status, JSON.stringify(run)).toBe("SUCCEEDED");
    const scans = run.calls.filter((c) => c.state === "ScanSource");
    const byIndex = (i: number) => scans.filter((c) => (c.input as { index: number }).index === i);
    expect([byIndex(0).length, byIndex(1).length, byIndex(2).length]).toEqual([1, 1, 3]);
    expect(byIndex(2).map((c) => c.error)).toEqual([
      "StepTransientError",
      "StepTransientError",
      undefined,
    ]);
    // What Step Functions would have waited: the definition's backoff, for that source only.
    expect(run.run.retries.map((r) => [r.state, r.definitionDelaySeconds])).toEqual([
      ["ScanSource", 30],
      ["ScanSource", 60],
    ]);
    // The request log: the other project's workspaces were scanned once, as in the clean run.
    expect(requests().research - before.research).toBe(once.research);
    expect(requests().eu - before.eu).toBe(once.eu + 10);
    expect(JSON.parse(await object(`daily/${day}/report.json`)).sources).toHaveLength(3);
  });

  it("fails the execution before Publish and publishes nothing when a source fails for good", async () => {
    const day = addDays(localDate(Date.now(), "UTC"), -2);
    const latest = await object("latest.json");
    // A refusal is not retried, by the client or the state machine.
    eu.queueFaults({ kind: "status", status: 403 });
    const run = await stack.execute({ name: "org-run-3", input: { dates: [day] } });
    expect(run.status).toBe("FAILED");
    expect(run).toMatchObject({ error: "StepFailedError" });
    expect(run.calls.map((c) => c.state)).not.toContain("Publish");
    expect(run.calls.filter((c) => c.error === "StepFailedError")).toHaveLength(1);
    expect(run.run.retries).toEqual([]);
    expect(await object(`daily/${day}/report.json`).catch(() => "missing")).toBe("missing");
    expect(await object("latest.json")).toBe(latest);
    // Not a scheduled run: RecordFailure was told, and raised and sent nothing (the caller
    // of a regeneration or a run by hand sees its execution fail).
    expect(run.deliveries.map((d) => [d.function, d.attempts.map((a) => a.result)])).toEqual([
      ["RecordFailureLambdaFunction", [{ alert: null, raised: false }]],
    ]);
    const alerts = JSON.parse(await object("alerts.json")).alerts as { kind: string }[];
    expect(alerts.filter((a) => a.kind === "run_failed")).toEqual([]);
    expect(
      stack.sns.published.filter((m) => m.subject?.endsWith("the scheduled run failed")),
    ).toEqual([]);
  });

  it("sends the alerts a run outside the schedule raised, once, without a digest", () => {
    // org-run-clean and org-run-2 reported days of their own: each raised the budget's alert
    // for its day, sent as an alerts message (no digest: they were not scheduled).
    const messages = stack.sns.published.filter(
      (m) => m.subject === "ModelArts usage - 1 new alert",
    );
    const days = [-4, -3].map((d) => addDays(localDate(Date.now(), "UTC"), d));
    expect(messages.map((m) => m.message)).toEqual(
      days.map((d) => expect.stringContaining(`budget eu-gpu-day (day ${d}) is over its limit`)),
    );
    expect(
      stack.sns.published.filter((m) => m.subject?.startsWith("ModelArts usage 2")),
    ).toHaveLength(1);
  });

  // Last, on purpose: it audits the AWS calls every test above made.
  it("made every AWS call with a role of the template that allows it, per-source secrets too (IAM audit)", () => {
    const audit = auditStack(stack);
    expect(audit.unattributed, "calls that no role of the template can be held to").toEqual([]);
    const denied = audit.calls.filter((c) => c.decision.effect !== "Allow").map(describeCall);
    expect(
      denied,
      `calls the template's roles deny:\n${denied.join("\n")}\nby role: ${JSON.stringify(countsByRole(audit))}`,
    ).toEqual([]);
    const credentials = stack.resolve({ Ref: "ModelArtsCredentialsSecret" }, "credentials");
    const bucket = `arn:aws:s3:::${stack.bucket}`;
    const needs: [string, string, string][] = [
      // Plan lists the workspaces of the "*" source with the stack's credentials.
      ["PlanFunctionRole", "secretsmanager:GetSecretValue", credentials],
      ["ScanSourceFunctionRole", "secretsmanager:GetSecretValue", credentials],
      // eu-prod's own secret, under the stage's sources/ prefix.
      ["ScanSourceFunctionRole", "secretsmanager:GetSecretValue", EU_SECRET_ARN],
      ["ScanSourceFunctionRole", "s3:PutObject", `${bucket}/reports/runs/*`],
      ["PublishFunctionRole", "s3:GetObject", `${bucket}/reports/runs/*`],
      ["PublishFunctionRole", "s3:DeleteObject", `${bucket}/reports/runs/*`],
      ["ApiFunctionRole", "s3:GetObject", `${bucket}/reports/daily/*`],
      ["PublishFunctionRole", "sns:Publish", stack.resolve({ Ref: "AlarmTopic" }, "topic")],
    ];
    const unseen = needs.filter(([role, action, resource]) => {
      return callsFor(audit, role, action, resource).length === 0;
    });
    expect(unseen, "grants no recorded call used").toEqual([]);
    // The failed source's execution published nothing; its partials stay for the lifecycle
    // rule, and no role but Publish's ever read one.
    const partialReaders = callsFor(audit, "*", "s3:GetObject", `${bucket}/reports/runs/*`);
    expect(new Set(partialReaders.map((c) => c.role))).toEqual(new Set(["PublishFunctionRole"]));
  });
});
