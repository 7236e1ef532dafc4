import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_LIST, ROUTES, routeKey } from "../../src/api/routes.js";
import { PENDING_TTL_MS } from "../../src/storage/regenerations.js";
import {
  PACKAGE_TIMEOUT_MS,
  type Props,
  packageService,
  type Template,
  unzip,
} from "../helpers/serverless-package.js";
import { aslErrors, compiledDefinition } from "../helpers/state-machine-definition.js";

/**
 * The deployment as CloudFormation: `serverless package` run for real (as CI does), with no
 * AWS credentials, then the generated template read back and checked against report.md §8.
 */

const MAX_ZIP_BYTES = 5 * 1024 * 1024;
const STATE_MACHINE = "ReportStateMachine";
/** The run's steps, as the state machine calls them (report.md §10). */
const PLAN = "PlanLambdaFunction";
const SCAN = "ScanSourceLambdaFunction";
const PUBLISH = "PublishLambdaFunction";
const STEPS = [PLAN, SCAN, PUBLISH];
/** Told by EventBridge of a run that failed or timed out (report.md §11). */
const RECORD = "RecordFailureLambdaFunction";
/** Lambda's own transient errors, as a Task that calls a function sees them. */
const LAMBDA_TRANSIENT = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];
/** The template's name of a serverless.yml function: `getReport` → `GetReportLambdaFunction`. */
const logicalId = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
/** Each route of the API's route table → the function serverless.yml deploys for it. */
const API_FUNCTIONS: Record<string, string> = Object.fromEntries(
  ROUTE_LIST.map((route) => [routeKey(route), logicalId(route.function)]),
);
/** Managed policies a function role may carry: logging only, nothing that reaches data. */
const ALLOWED_MANAGED_POLICIES = [
  "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
];

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
}

function ofType(template: Template, type: string): [string, Props][] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}

function props(template: Template, id: string): Props {
  const resource = template.Resources[id];
  if (resource === undefined) throw new Error(`the template has no resource ${id}`);
  return resource.Properties ?? {};
}

function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The logical id a `{"Ref": id}` or `{"Fn::GetAtt": [id, attr]}` points at. */
function target(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === "string") return ref;
  const getAtt = (value as { "Fn::GetAtt"?: unknown })["Fn::GetAtt"];
  return Array.isArray(getAtt) && typeof getAtt[0] === "string" ? getAtt[0] : undefined;
}

function roleOf(template: Template, functionId: string): string {
  const role = target(props(template, functionId).Role);
  if (role === undefined) throw new Error(`${functionId} has no role from this template`);
  return role;
}

function statementsOf(template: Template, roleId: string): Statement[] {
  const policies = list(props(template, roleId).Policies as Props[] | undefined);
  return policies.flatMap((policy) =>
    list((policy.PolicyDocument as { Statement: Statement | Statement[] }).Statement),
  );
}

/** Every statement of every inline role policy and standalone policy in the template. */
function allPolicyStatements(template: Template): Statement[] {
  const fromRoles = ofType(template, "AWS::IAM::Role").flatMap(([id]) =>
    statementsOf(template, id),
  );
  const standalone = [
    ...ofType(template, "AWS::IAM::Policy"),
    ...ofType(template, "AWS::IAM::ManagedPolicy"),
  ].flatMap(([, p]) =>
    list((p.PolicyDocument as { Statement: Statement | Statement[] }).Statement),
  );
  return [...fromRoles, ...standalone];
}

function isWildcardResource(resource: unknown): boolean {
  return typeof resource === "string" && (resource === "*" || /:\*$/.test(resource));
}

/** A resource of a statement as the test names it: a logical id, or the Fn::Sub string. */
function named(resource: unknown): string | undefined {
  return target(resource) ?? (resource as { "Fn::Sub"?: string })["Fn::Sub"] ?? undefined;
}

/** The Allow statements of a role, as `action → resources`, every action listed. */
function grants(template: Template, roleId: string): Record<string, (string | undefined)[]> {
  const out: Record<string, (string | undefined)[]> = {};
  for (const statement of statementsOf(template, roleId)) {
    if (statement.Effect !== "Allow") continue;
    for (const action of list(statement.Action)) {
      out[action] = [...(out[action] ?? []), ...list(statement.Resource).map(named)];
    }
  }
  return out;
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
}
interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Retry?: Retrier[];
  Catch?: unknown[];
  TimeoutSeconds?: number;
  [key: string]: unknown;
}
interface Machine {
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
}

/** A function's ARN as CloudFormation resolves `Fn::GetAtt [id, Arn]` (the test's account). */
const functionArn = (id: string) => `arn:aws:lambda:eu-central-1:123456789012:function:${id}`;

/** The compiled definition, each function's ARN filled in where the template substitutes it. */
function machineOf(template: Template): { machine: Machine; unresolved: string[] } {
  const { definition, unresolved } = compiledDefinition(template, STATE_MACHINE, (value) => {
    const id = target(value);
    if (id === undefined) throw new Error(`a substitution that is no function: ${value}`);
    return functionArn(id);
  });
  return { machine: definition as unknown as Machine, unresolved };
}

/** Every state, those of Map item processors included, by name. */
function allStates(machine: Machine): Record<string, State> {
  const out: Record<string, State> = {};
  for (const [name, state] of Object.entries(machine.States)) {
    out[name] = state;
    const inner = (state.ItemProcessor ?? state.Iterator) as Machine | undefined;
    if (inner !== undefined) Object.assign(out, allStates(inner));
  }
  return out;
}

describe("the packaged stack (serverless package --stage ci, no AWS credentials)", () => {
  let dir: string;
  let template: Template;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sls-package-"));
    template = await packageService(dir);
  }, PACKAGE_TIMEOUT_MS);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("starts the run daily at 00:30 in the report time zone (UTC by default) through EventBridge Scheduler", () => {
    const schedules = ofType(template, "AWS::Scheduler::Schedule");
    expect(schedules).toHaveLength(1);
    const [, schedule] = schedules[0] as [string, Props];
    expect(schedule.ScheduleExpression).toBe("cron(30 0 * * ? *)");
    expect(schedule.ScheduleExpressionTimezone).toBe("UTC");
    expect(schedule.State).toBe("ENABLED");
    const scheduleTarget = schedule.Target as {
      Arn: unknown;
      RoleArn: unknown;
      RetryPolicy: Props;
    };
    // The state machine itself (a templated target): Scheduler calls StartExecution with Input.
    expect(target(scheduleTarget.Arn)).toBe(STATE_MACHINE);
    // The retry policy the schedule had (Scheduler's defaults), now written out.
    expect(scheduleTarget.RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 86400,
      MaximumRetryAttempts: 185,
    });
    // Scheduler must be able to assume the role it is given, and that role only start the run.
    const roleId = target(scheduleTarget.RoleArn) ?? "";
    const trust = props(template, roleId).AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement.map((s) => (s as unknown as Props).Principal)).toEqual([
      { Service: "scheduler.amazonaws.com" },
    ]);
    expect(grants(template, roleId)).toEqual({ "states:StartExecution": [STATE_MACHINE] });
    expect(props(template, roleId).ManagedPolicyArns).toBeUndefined();
  });

  it("hands the run the schedule's own time, so it reports the day before it", () => {
    const [, schedule] = ofType(template, "AWS::Scheduler::Schedule")[0] ?? [];
    const target = schedule?.Target as { Input?: string } | undefined;
    const input = JSON.parse(target?.Input ?? "null");
    expect(input).toEqual({
      source: "schedule",
      scheduled_time: "<aws.scheduler.scheduled-time>",
    });
  });

  it("runs Plan, then ScanSource for each planned source in a Map, then Publish, with the three functions", () => {
    const { machine, unresolved } = machineOf(template);
    expect(unresolved).toEqual([]);
    expect(machine.QueryLanguage ?? "JSONPath").toBe("JSONPath");
    expect(machine.StartAt).toBe("Plan");
    const { Plan: plan, ScanSources: map, Publish: publish } = machine.States;
    expect(Object.keys(machine.States).sort()).toEqual(["Plan", "Publish", "ScanSources"]);
    // Plan gets the execution's input as the event and its name as the run's id.
    expect(plan).toMatchObject({
      Type: "Task",
      Resource: functionArn(PLAN),
      Parameters: { "event.$": "$", "run_id.$": "$$.Execution.Name" },
      Next: "ScanSources",
    });
    // One iteration per planned source, each given the plan and its index; the scans go
    // beside the plan, as Publish's input (step-payloads.ts: publishInput).
    expect(map).toMatchObject({
      Type: "Map",
      ItemsPath: "$.sources",
      ItemSelector: { "plan.$": "$", "index.$": "$$.Map.Item.Value.index" },
      MaxConcurrency: 10,
      ResultPath: "$.scans",
      Next: "Publish",
    });
    const inner = map?.ItemProcessor as Machine;
    expect(inner.StartAt).toBe("ScanSource");
    expect(Object.keys(inner.States)).toEqual(["ScanSource"]);
    expect(inner.States.ScanSource).toMatchObject({
      Type: "Task",
      Resource: functionArn(SCAN),
      End: true,
    });
    expect(publish).toMatchObject({ Type: "Task", Resource: functionArn(PUBLISH), End: true });
    // Each substitution is one of the run's functions, by its ARN.
    const { substitutions } = compiledDefinition(template, STATE_MACHINE, () => "");
    expect(Object.values(substitutions).map(target).sort()).toEqual([...STEPS].sort());
    expect(
      Object.values(substitutions).map((v) => (v as { "Fn::GetAtt": string[] })["Fn::GetAtt"][1]),
    ).toEqual(["Arn", "Arn", "Arn"]);
  });

  it("is a definition the Amazon States Language accepts (asl-validator)", () => {
    const { machine } = machineOf(template);
    expect(aslErrors(machine)).toEqual([]);
    // And the check bites: a transition to nowhere, a Map without its processor.
    const broken = structuredClone(machine);
    (broken.States.Plan as State).Next = "Scan";
    expect(aslErrors(broken).length).toBeGreaterThan(0);
  });

  it("retries a source's transient failure for that source alone, with backoff, and lets a permanent one fail the run before Publish", () => {
    const { machine } = machineOf(template);
    const states = allStates(machine);
    const scan = states.ScanSource as State;
    const retriers = scan.Retry ?? [];
    const transient = retriers.find((r) => r.ErrorEquals.includes("StepTransientError"));
    expect(transient?.ErrorEquals).toEqual(expect.arrayContaining(LAMBDA_TRANSIENT));
    expect(transient?.MaxAttempts).toBeGreaterThanOrEqual(2);
    expect(transient?.IntervalSeconds).toBeGreaterThanOrEqual(10);
    expect(transient?.BackoffRate).toBeGreaterThan(1);
    // The retry is inside the Map's iteration: the Map itself is not retried (a retry there
    // would scan every source again).
    expect(states.ScanSources?.Retry).toBeUndefined();
    // Nothing catches, nothing retries StepFailedError or everything (States.ALL): a source
    // that fails for good fails the Map, so the execution fails and Publish never runs.
    for (const [name, state] of Object.entries(states)) {
      expect(state.Catch, name).toBeUndefined();
      for (const retrier of state.Retry ?? []) {
        expect(retrier.ErrorEquals, name).not.toContain("StepFailedError");
        expect(retrier.ErrorEquals, name).not.toContain("States.ALL");
      }
    }
    // Publish retries its own transient failures a little.
    const publish = (machine.States.Publish?.Retry ?? []).find((r) =>
      r.ErrorEquals.includes("StepTransientError"),
    );
    expect(publish?.MaxAttempts).toBeGreaterThanOrEqual(1);
    expect(publish?.MaxAttempts).toBeLessThanOrEqual(3);
  });

  it("bounds each step by its function's timeout, and the run by the regeneration's pending time", () => {
    const { machine } = machineOf(template);
    const states = allStates(machine);
    for (const [name, id] of [
      ["Plan", PLAN],
      ["ScanSource", SCAN],
      ["Publish", PUBLISH],
    ] as const) {
      const timeout = props(template, id).Timeout as number;
      // The function's own timeout ends it first; the state's is the backstop.
      expect(states[name]?.TimeoutSeconds, name).toBeGreaterThan(timeout);
      expect(states[name]?.TimeoutSeconds, name).toBeLessThanOrEqual(timeout + 60);
    }
    expect(props(template, SCAN).Timeout).toBe(900);
    // A run has ended before its POST's pending entry lapses, so the 409 rule holds.
    expect(machine.TimeoutSeconds).toBeLessThan(PENDING_TTL_MS / 1000);
  });

  it("lets the state machine's role invoke the run's three functions and nothing else", () => {
    const roleId = target(props(template, STATE_MACHINE).RoleArn) ?? "";
    const trust = props(template, roleId).AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement.map((s) => (s as unknown as Props).Principal)).toEqual([
      { Service: "states.amazonaws.com" },
    ]);
    const allowed = grants(template, roleId);
    expect(Object.keys(allowed)).toEqual(["lambda:InvokeFunction"]);
    expect(allowed["lambda:InvokeFunction"]?.sort()).toEqual([...STEPS].sort());
    expect(props(template, roleId).ManagedPolicyArns).toBeUndefined();
  });

  it("alarms on a failed or timed-out run, to the alarm topic", () => {
    const alarms = ofType(template, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm);
    for (const metric of ["ExecutionsFailed", "ExecutionsTimedOut"]) {
      const alarm = alarms.find((a) => a.Namespace === "AWS/States" && a.MetricName === metric);
      expect(alarm, metric).toBeDefined();
      expect(list(alarm?.Dimensions as { Name: string; Value: unknown }[])).toEqual([
        { Name: "StateMachineArn", Value: { Ref: STATE_MACHINE } },
      ]);
      expect(alarm?.Threshold).toBe(0);
      expect(alarm?.ComparisonOperator).toBe("GreaterThanThreshold");
      expect(list(alarm?.AlarmActions as unknown[]).map(target)).toEqual(["AlarmTopic"]);
    }
    // The alarmEmail parameter still subscribes an address to that topic.
    const [, subscription] = ofType(template, "AWS::SNS::Subscription")[0] ?? [];
    expect(target(subscription?.TopicArn)).toBe("AlarmTopic");
  });

  it("throttles each route of the HTTP API on its own, and the README says so with the same figures", async () => {
    const stages = ofType(template, "AWS::ApiGatewayV2::Stage");
    expect(stages).toHaveLength(1);
    const [, stage] = stages[0] as [string, Props];
    // A stage's DefaultRouteSettings are each route's limits (API Gateway's HTTP API
    // throttling: "route-level throttling … for a specific stage or for individual routes"),
    // not one limit for the whole API; no route overrides them.
    expect(stage.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 10,
      ThrottlingBurstLimit: 20,
    });
    expect(stage.RouteSettings).toBeUndefined();
    const routes = ofType(template, "AWS::ApiGatewayV2::Route").length;
    expect(routes).toBe(Object.keys(API_FUNCTIONS).length);
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).not.toMatch(/stage-wide|throttled at the stage|across the HTTP API/i);
    const text = readme.replace(/\s+/g, " ");
    expect(text).toContain("10 requests per second for each route");
    expect(text).toContain(`${routes} routes`);
    expect(text).toContain(`up to ${routes * 10} requests per second`);
  });

  it("lets the API functions write only the regeneration queue, and read the reports", () => {
    const apiRole = roleOf(template, "GetReportLambdaFunction");
    const writes = statementsOf(template, apiRole).filter((s) =>
      list(s.Action).some((a) => /^s3:(Put|Delete)/.test(a)),
    );
    expect(writes.flatMap((s) => list(s.Action))).toEqual(["s3:PutObject"]);
    expect(writes.flatMap((s) => list(s.Resource))).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      { "Fn::Sub": "${ReportBucket.Arn}/reports/regenerations.json" },
    ]);
  });

  it("scans for up to 15 minutes with 1 GB, publishes one run at a time, on nodejs22.x", () => {
    expect(props(template, SCAN)).toMatchObject({ Timeout: 900, MemorySize: 1024 });
    expect(props(template, PUBLISH)).toMatchObject({
      Timeout: 900,
      MemorySize: 1024,
      ReservedConcurrentExecutions: 1,
    });
    // Publish's throttling (another execution is publishing) is waited out, as long as it runs.
    const { machine } = machineOf(template);
    const waits = (machine.States.Publish?.Retry ?? []).find((r) =>
      r.ErrorEquals.includes("Lambda.TooManyRequestsException"),
    );
    // 15 retries a minute apart (backoff rate 1): 15 × 60 s = 900 s, the function's timeout.
    expect((waits?.MaxAttempts ?? 0) * (waits?.IntervalSeconds ?? 0)).toBeGreaterThanOrEqual(900);
    for (const [id, fn] of ofType(template, "AWS::Lambda::Function")) {
      expect(fn.Runtime, id).toBe("nodejs22.x");
    }
    // The report function and its asynchronous retries are gone: the state machine retries.
    expect(ofType(template, "AWS::Lambda::EventInvokeConfig")).toEqual([]);
    expect(ofType(template, "AWS::SQS::Queue")).toEqual([]);
  });

  it("lets ScanSource write only the run's partials, Plan write nothing, and Publish the reports", () => {
    const writes = (id: string) =>
      Object.fromEntries(
        Object.entries(grants(template, roleOf(template, id))).filter(([a]) =>
          /^s3:(Put|Delete)/.test(a),
        ),
      );
    expect(writes(SCAN)).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "s3:PutObject": ["${ReportBucket.Arn}/reports/runs/*"],
    });
    expect(writes(PLAN)).toEqual({});
    expect(writes(PUBLISH)).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "s3:PutObject": ["${ReportBucket.Arn}/reports/*"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "s3:DeleteObject": ["${ReportBucket.Arn}/reports/*"],
    });
    // What each reads: Plan the sources and which month was reported last; ScanSource the
    // sources; Publish the reports, the partials and the prices.
    const reads = (id: string) => grants(template, roleOf(template, id))["s3:GetObject"]?.sort();
    expect(reads(PLAN)).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "${ReportBucket.Arn}/config/*",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "${ReportBucket.Arn}/reports/latest-month.json",
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
    expect(reads(SCAN)).toEqual(["${ReportBucket.Arn}/config/*"]);
    expect(reads(PUBLISH)).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "${ReportBucket.Arn}/config/*",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "${ReportBucket.Arn}/reports/*",
    ]);
    // Each step has a role of its own, and so has RecordFailure.
    expect(new Set([...STEPS, RECORD].map((id) => roleOf(template, id))).size).toBe(4);
  });

  it("keeps the report bucket private, encrypted and versioned, and expires old versions", () => {
    const storage = (props(template, PUBLISH).Environment as { Variables: Props }).Variables
      .REPORT_STORAGE as { "Fn::Sub": string };
    const bucketId = /^s3:\/\/\$\{(\w+)\}\//.exec(storage["Fn::Sub"])?.[1] ?? "";
    expect(template.Resources[bucketId]?.Type).toBe("AWS::S3::Bucket");
    const bucket = props(template, bucketId);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const encryption = bucket.BucketEncryption as {
      ServerSideEncryptionConfiguration: {
        ServerSideEncryptionByDefault: { SSEAlgorithm: string };
      }[];
    };
    expect(
      encryption.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toMatch(/^(AES256|aws:kms)$/);
    expect(bucket.VersioningConfiguration).toEqual({ Status: "Enabled" });
    const rules = (bucket.LifecycleConfiguration as { Rules: Props[] }).Rules;
    expect(
      rules.some(
        (rule) =>
          rule.Status === "Enabled" &&
          (rule.NoncurrentVersionExpiration as { NoncurrentDays?: number } | undefined)
            ?.NoncurrentDays !== undefined,
      ),
    ).toBe(true);
    // The partials of a run that failed (Publish deletes the others) go after a day.
    expect(rules).toContainEqual({
      Id: "expire-run-partials",
      Status: "Enabled",
      Prefix: "reports/runs/",
      ExpirationInDays: 1,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    });
  });

  it("grants every action only on named resources, never '*', and no action by wildcard", () => {
    const statements = allPolicyStatements(template).filter((s) => s.Effect === "Allow");
    for (const statement of statements) {
      expect(
        list(statement.Action).filter((a) => a.includes("*")),
        JSON.stringify(statement),
      ).toEqual([]);
    }
    const reachesData = statements.filter((s) =>
      list(s.Action).some((action) => /^(s3|secretsmanager|states|lambda):/i.test(action)),
    );
    expect(reachesData.length).toBeGreaterThan(0);
    for (const statement of reachesData) {
      expect(statement.NotResource, JSON.stringify(statement)).toBeUndefined();
      const resources = list(statement.Resource);
      expect(resources.length, JSON.stringify(statement)).toBeGreaterThan(0);
      expect(resources.filter(isWildcardResource), JSON.stringify(statement)).toEqual([]);
    }
    // A broad managed policy would get round the inline statements above.
    for (const [id, role] of ofType(template, "AWS::IAM::Role")) {
      for (const arn of list(role.ManagedPolicyArns as unknown[] | undefined)) {
        expect(ALLOWED_MANAGED_POLICIES, id).toContain(arn);
      }
    }
  });

  it("tells RecordFailure, through EventBridge, of every execution of the run that failed or timed out, and lets only that rule invoke it", () => {
    const rules = ofType(template, "AWS::Events::Rule");
    expect(rules.map(([id]) => id)).toEqual(["RunEndedRule"]);
    const [, rule] = rules[0] as [string, Props];
    expect(rule.State).toBe("ENABLED");
    // Step Functions' own status-change event of this state machine, failed or timed out
    // (an abort is someone's own doing; a success is told by Publish).
    expect(rule.EventPattern).toEqual({
      source: ["aws.states"],
      "detail-type": ["Step Functions Execution Status Change"],
      detail: { status: ["FAILED", "TIMED_OUT"], stateMachineArn: [{ Ref: STATE_MACHINE }] },
    });
    // On the default bus (Step Functions sends nowhere else), the whole event to the
    // function's ARN (its GetAtt Arn: a Ref gives its name), nothing transformed.
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.Targets).toEqual([
      {
        Id: "record-failure",
        Arn: { "Fn::GetAtt": [RECORD, "Arn"] },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      },
    ]);
    // Lambda's resource policy: the rule, and nothing else, may invoke RecordFailure.
    const permissions = ofType(template, "AWS::Lambda::Permission").filter(
      ([, p]) => target(p.FunctionName) === RECORD,
    );
    expect(permissions.map(([, p]) => p)).toEqual([
      {
        Action: "lambda:InvokeFunction",
        FunctionName: { "Fn::GetAtt": [RECORD, "Arn"] },
        Principal: "events.amazonaws.com",
        SourceArn: { "Fn::GetAtt": ["RunEndedRule", "Arn"] },
      },
    ]);
    // It is no route of the API and no Task of the state machine.
    expect(props(template, RECORD).Events).toBeUndefined();
    const { substitutions } = compiledDefinition(template, STATE_MACHINE, () => "");
    expect(Object.values(substitutions).map(target)).not.toContain(RECORD);
  });

  it("lets only the functions that send publish to the stack's topic (sns:Publish), and to it alone", () => {
    const publishers = ofType(template, "AWS::IAM::Role")
      .filter(([id]) =>
        Object.keys(grants(template, id)).some((a) => a.startsWith("sns:") || a === "*"),
      )
      .map(([id]) => id)
      .sort();
    expect(publishers).toEqual([roleOf(template, PUBLISH), roleOf(template, RECORD)].sort());
    for (const role of publishers) {
      expect(grants(template, role)["sns:Publish"], role).toEqual(["AlarmTopic"]);
      expect(Object.keys(grants(template, role)).filter((a) => a.startsWith("sns:"))).toEqual([
        "sns:Publish",
      ]);
    }
    // No other kind of policy grants it either (a standalone policy, a topic policy).
    for (const statement of allPolicyStatements(template)) {
      const actions = list(statement.Action);
      if (actions.some((a) => a.startsWith("sns:"))) expect(actions).toEqual(["sns:Publish"]);
    }
    expect(ofType(template, "AWS::SNS::TopicPolicy")).toEqual([]);
    // The functions that send are told which topic, and it is that one.
    for (const id of [PUBLISH, RECORD]) {
      const variables = (props(template, id).Environment as { Variables: Props }).Variables;
      expect(target(variables.REPORT_TOPIC_ARN), id).toBe("AlarmTopic");
    }
    // RecordFailure writes alerts.json and nothing else.
    expect(grants(template, roleOf(template, RECORD))["s3:PutObject"]).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      "${ReportBucket.Arn}/reports/alerts.json",
    ]);
  });

  it("gives each function's role only its own secret", () => {
    const secretsOf = (functionId: string) =>
      statementsOf(template, roleOf(template, functionId))
        .filter((s) => list(s.Action).some((a) => a.startsWith("secretsmanager:")))
        .flatMap((s) =>
          list(s.Resource).map((r) => target(r) ?? (r as { "Fn::Sub"?: string })["Fn::Sub"]),
        );
    // Plan (ListWorkspace) and ScanSource reach the upstream; Publish never does: it signs the
    // digest's link (report.md §11). RecordFailure reads no secret.
    for (const id of [PLAN, SCAN]) {
      expect(secretsOf(id), id).toEqual([
        "ModelArtsCredentialsSecret",
        // Per-source credentials (REPORT_SOURCES `credentials`): only under the stage's prefix.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:modelarts-usage-report/ci/sources/*",
      ]);
    }
    expect(secretsOf(PUBLISH)).toEqual(["LinkKeySecret"]);
    expect(secretsOf(RECORD)).toEqual([]);
    for (const functionId of Object.values(API_FUNCTIONS)) {
      expect(secretsOf(functionId), functionId).toEqual(["ApiTokenSecret", "LinkKeySecret"]);
    }
  });

  it("lets the API functions start the run and nothing else of it, and never read a run's partials", () => {
    for (const functionId of Object.values(API_FUNCTIONS)) {
      const roleId = roleOf(template, functionId);
      const allowed = grants(template, roleId);
      const workflow = Object.keys(allowed).filter((a) => /^(states|lambda):/.test(a));
      expect(workflow, functionId).toEqual(["states:StartExecution"]);
      expect(allowed["states:StartExecution"], functionId).toEqual([STATE_MACHINE]);
      // They read reports/*, which holds runs/: an explicit Deny keeps the partials out.
      const denied = statementsOf(template, roleId).filter((s) => s.Effect === "Deny");
      expect(
        denied.map((s) => [list(s.Action), list(s.Resource).map(named)]),
        functionId,
      ).toEqual([
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
        [["s3:GetObject"], ["${ReportBucket.Arn}/reports/runs/*"]],
      ]);
    }
  });

  it("routes GET /reports, GET /reports/{date}, GET /reports/{date}/files/{name} and POST /reports over an HTTP API", () => {
    const apis = ofType(template, "AWS::ApiGatewayV2::Api");
    expect(apis.map(([, api]) => api.ProtocolType)).toEqual(["HTTP"]);
    const routes = new Map<string, string | undefined>();
    for (const [, route] of ofType(template, "AWS::ApiGatewayV2::Route")) {
      const join = (route.Target as { "Fn::Join": [string, unknown[]] })["Fn::Join"];
      const integration = props(template, target(join[1][1]) ?? "");
      routes.set(route.RouteKey as string, target(integration.IntegrationUri));
    }
    expect(Object.fromEntries(routes)).toEqual(API_FUNCTIONS);
  });

  it("deploys each route of the route table with the handler the table names", async () => {
    for (const route of ROUTE_LIST) {
      const handler = typeof route.handler === "string" ? route.handler : route.handler.deployed;
      expect(props(template, logicalId(route.function)).Handler, routeKey(route)).toBe(handler);
    }
    // The local stage's POST /reports handler is chosen in serverless.yml by stage.
    const yml = await readFile(new URL("../../serverless.yml", import.meta.url), "utf8");
    expect(yml).toContain(`local: ${ROUTES.postReports.handler.local}`);
    expect(yml).toContain(`deployed: ${ROUTES.postReports.handler.deployed}`);
  });

  it("keeps credentials and the API token out of function environments", () => {
    const secretLike = /TOKEN$|_SK$|PASSWORD/;
    for (const [id, fn] of ofType(template, "AWS::Lambda::Function")) {
      const variables = (fn.Environment as { Variables?: Props } | undefined)?.Variables ?? {};
      const literal = Object.entries(variables).filter(
        ([name, value]) => secretLike.test(name) && typeof value === "string",
      );
      expect(literal, id).toEqual([]);
    }
    const variablesOf = (id: string) =>
      (props(template, id).Environment as { Variables: Props }).Variables;
    // Each function learns only where its secret is; it reads the value at run time.
    for (const id of STEPS) {
      expect(target(variablesOf(id).MODELARTS_CREDENTIALS_SECRET), id).toBe(
        "ModelArtsCredentialsSecret",
      );
      expect(
        Object.keys(variablesOf(id)).filter((n) => n.startsWith("REPORT_API_TOKEN")),
        id,
      ).toEqual([]);
    }
    // Only Publish prices the report.
    expect(STEPS.filter((id) => "PRICE_TABLE" in variablesOf(id))).toEqual([PUBLISH]);
    for (const functionId of Object.values(API_FUNCTIONS)) {
      expect(target(variablesOf(functionId).REPORT_API_TOKEN_SECRET), functionId).toBe(
        "ApiTokenSecret",
      );
      // The API functions read no upstream setting; only POST starts the run.
      const names = Object.keys(variablesOf(functionId));
      expect(
        names.filter((n) => /^(MODELARTS_|IAM_|PRICE_TABLE)/.test(n)),
        functionId,
      ).toEqual([]);
      const machine = variablesOf(functionId).REPORT_STATE_MACHINE_ARN;
      expect(machine === undefined ? undefined : target(machine), functionId).toBe(
        functionId === "PostReportsLambdaFunction" ? STATE_MACHINE : undefined,
      );
    }
    // Left empty at deploy time, the endpoint fails the run's steps (not the API).
    for (const id of STEPS) expect(variablesOf(id).MODELARTS_ENDPOINT, id).toBe("");
  });

  it("packages each function as its own ES module bundle under 5 MB, without the simulator", async () => {
    for (const [id, fn] of ofType(template, "AWS::Lambda::Function")) {
      const key = (fn.Code as { S3Key: string }).S3Key;
      const zipPath = join(dir, "package", key.slice(key.lastIndexOf("/") + 1));
      expect((await stat(zipPath)).size, id).toBeLessThan(MAX_ZIP_BYTES);
      // Handler "src/handlers/list-reports.handler" lives in src/handlers/list-reports.mjs.
      const handler = fn.Handler as string;
      const file = `${handler.slice(0, handler.lastIndexOf("."))}.mjs`;
      const files = unzip(await readFile(zipPath));
      // Its own bundle and source map, nothing else: not the other functions', and not what
      // `npm run dev` left behind in the working tree (packageService seeds that).
      expect([...files.keys()].sort(), id).toEqual([file, `${file}.map`]);
      const code = files.get(file)?.toString("utf8") ?? "";
      // Bundled CommonJS dependencies call require(); the banner provides it in ESM.
      expect(code.startsWith("import { createRequire } from 'node:module';"), id).toBe(true);
      // The simulator is the demo's (the command line injects it), never a function's.
      expect(code, id).not.toContain("project needs a name or an id");
      // Only the functions that hold scans keep their heap close to it (heap-policy.ts).
      expect(code.includes("--heap-growing-percent="), id).toBe(id === SCAN || id === PUBLISH);
    }
  });
});

describe("the packaged stack with --param timezone=Europe/Berlin and scanConcurrency=4", () => {
  let dir: string;
  let template: Template;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sls-package-"));
    template = await packageService(dir, [
      "--param=timezone=Europe/Berlin",
      "--param=scanConcurrency=4",
    ]);
  }, PACKAGE_TIMEOUT_MS);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs the schedule and the run's steps in that time zone", () => {
    const [, schedule] = ofType(template, "AWS::Scheduler::Schedule")[0] ?? [];
    expect(schedule?.ScheduleExpressionTimezone).toBe("Europe/Berlin");
    for (const id of STEPS) {
      const variables = (props(template, id).Environment as { Variables: Props }).Variables;
      expect(variables.REPORT_TIMEZONE, id).toBe("Europe/Berlin");
    }
  });

  it("scans as many sources at once as --param scanConcurrency says, as a number", () => {
    // A --param value is a string; Step Functions would refuse "MaxConcurrency": "4".
    expect(machineOf(template).machine.States.ScanSources?.MaxConcurrency).toBe(4);
  });

  it(
    "refuses to package a scanConcurrency that is not a whole number from 1 to 40, naming it",
    async () => {
      const other = await mkdtemp(join(tmpdir(), "sls-package-"));
      try {
        const failure = await packageService(other, ["--param=scanConcurrency=ten"]).catch(
          (e: unknown) => e,
        );
        expect(String(failure)).toContain(
          'the parameter scanConcurrency must be a whole number from 1 to 40, not "ten"',
        );
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    },
    PACKAGE_TIMEOUT_MS,
  );
});
