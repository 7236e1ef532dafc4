import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_LIST, ROUTES, routeKey } from "../../src/api/routes.js";
import {
  PACKAGE_TIMEOUT_MS,
  type Props,
  packageService,
  type Template,
  unzip,
} from "../helpers/serverless-package.js";

/**
 * The deployment as CloudFormation: `serverless package` run for real (as CI does), with no
 * AWS credentials, then the generated template read back and checked against report.md §8.
 */

const MAX_ZIP_BYTES = 5 * 1024 * 1024;
const REPORT_FUNCTION = "ReportLambdaFunction";
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

  it("runs the report daily at 00:30 in the report time zone (UTC by default) through EventBridge Scheduler", () => {
    const schedules = ofType(template, "AWS::Scheduler::Schedule");
    expect(schedules).toHaveLength(1);
    const [, schedule] = schedules[0] as [string, Props];
    expect(schedule.ScheduleExpression).toBe("cron(30 0 * * ? *)");
    expect(schedule.ScheduleExpressionTimezone).toBe("UTC");
    expect(schedule.State).toBe("ENABLED");
    const scheduleTarget = schedule.Target as { Arn: unknown; RoleArn: unknown };
    expect(target(scheduleTarget.Arn)).toBe(REPORT_FUNCTION);
    // Scheduler must be able to assume the role it is given, and that role start the function.
    const roleId = target(scheduleTarget.RoleArn) ?? "";
    const trust = props(template, roleId).AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement.map((s) => (s as unknown as Props).Principal)).toContainEqual({
      Service: "scheduler.amazonaws.com",
    });
    const invoke = statementsOf(template, roleId).filter((s) =>
      list(s.Action).includes("lambda:InvokeFunction"),
    );
    expect(invoke.flatMap((s) => list(s.Resource)).map(target)).toEqual([REPORT_FUNCTION]);
  });

  it("hands the report function the schedule's own time, so it reports the day before it", () => {
    const [, schedule] = ofType(template, "AWS::Scheduler::Schedule")[0] ?? [];
    const target = schedule?.Target as { Input?: string } | undefined;
    const input = JSON.parse(target?.Input ?? "null");
    expect(input).toEqual({
      source: "schedule",
      scheduled_time: "<aws.scheduler.scheduled-time>",
    });
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

  it("runs one report at a time, for up to 15 minutes, on nodejs22.x", () => {
    const report = props(template, REPORT_FUNCTION);
    expect(report.Timeout).toBe(900);
    expect(report.ReservedConcurrentExecutions).toBe(1);
    for (const [id, fn] of ofType(template, "AWS::Lambda::Function")) {
      expect(fn.Runtime, id).toBe("nodejs22.x");
    }
  });

  it("retries a failed run and then sends it to the dead-letter queue", () => {
    const configs = ofType(template, "AWS::Lambda::EventInvokeConfig").filter(
      ([, c]) => target(c.FunctionName) === REPORT_FUNCTION,
    );
    expect(configs).toHaveLength(1);
    const [, config] = configs[0] as [string, Props];
    expect(config.MaximumRetryAttempts).toBeGreaterThanOrEqual(1);
    const onFailure = (config.DestinationConfig as { OnFailure: { Destination: unknown } })
      .OnFailure.Destination;
    const queueId = target(onFailure) ?? "";
    expect(template.Resources[queueId]?.Type).toBe("AWS::SQS::Queue");
    // Lambda sends the failed event with the function's own role.
    const send = statementsOf(template, roleOf(template, REPORT_FUNCTION)).filter((s) =>
      list(s.Action).includes("sqs:SendMessage"),
    );
    expect(send.flatMap((s) => list(s.Resource)).map(target)).toContain(queueId);
  });

  it("alarms on messages in the dead-letter queue and on report function errors", () => {
    const config = ofType(template, "AWS::Lambda::EventInvokeConfig")[0]?.[1] ?? {};
    const queueId = target(
      (config.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination,
    );
    const alarms = ofType(template, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm);
    const watches = (namespace: string, metric: string, dimension: string, id: unknown) =>
      alarms.some(
        (alarm) =>
          alarm.Namespace === namespace &&
          alarm.MetricName === metric &&
          list(alarm.AlarmActions as unknown[]).length > 0 &&
          list(alarm.Dimensions as { Name: string; Value: unknown }[]).some(
            (d) => d.Name === dimension && target(d.Value) === id,
          ),
      );
    expect(watches("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queueId)).toBe(
      true,
    );
    expect(watches("AWS/Lambda", "Errors", "FunctionName", REPORT_FUNCTION)).toBe(true);
  });

  it("keeps the report bucket private, encrypted and versioned, and expires old versions", () => {
    const storage = (props(template, REPORT_FUNCTION).Environment as { Variables: Props }).Variables
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
  });

  it("grants S3 and Secrets Manager actions only on named resources, never '*'", () => {
    const statements = allPolicyStatements(template).filter((s) => s.Effect === "Allow");
    const reachesData = statements.filter((s) =>
      list(s.Action).some((action) => action === "*" || /^(s3|secretsmanager):/i.test(action)),
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

  it("gives each function's role only its own secret", () => {
    const secretsOf = (functionId: string) =>
      statementsOf(template, roleOf(template, functionId))
        .filter((s) => list(s.Action).some((a) => a.startsWith("secretsmanager:")))
        .flatMap((s) =>
          list(s.Resource).map((r) => target(r) ?? (r as { "Fn::Sub"?: string })["Fn::Sub"]),
        );
    expect(secretsOf(REPORT_FUNCTION)).toEqual([
      "ModelArtsCredentialsSecret",
      // Per-source credentials (REPORT_SOURCES `credentials`): only under the stage's prefix.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
      "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:modelarts-usage-report/ci/sources/*",
    ]);
    for (const functionId of Object.values(API_FUNCTIONS)) {
      expect(secretsOf(functionId), functionId).toEqual(["ApiTokenSecret", "LinkKeySecret"]);
    }
  });

  it("lets the API functions invoke the report function and no other", () => {
    for (const functionId of Object.values(API_FUNCTIONS)) {
      const lambda = statementsOf(template, roleOf(template, functionId)).filter((s) =>
        list(s.Action).some((a) => a === "*" || a.startsWith("lambda:")),
      );
      expect(
        lambda.flatMap((s) => list(s.Action)),
        functionId,
      ).toEqual(["lambda:InvokeFunction"]);
      expect(lambda.flatMap((s) => list(s.Resource)).map(target), functionId).toEqual([
        REPORT_FUNCTION,
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
    expect(target(variablesOf(REPORT_FUNCTION).MODELARTS_CREDENTIALS_SECRET)).toBe(
      "ModelArtsCredentialsSecret",
    );
    for (const functionId of Object.values(API_FUNCTIONS)) {
      expect(target(variablesOf(functionId).REPORT_API_TOKEN_SECRET), functionId).toBe(
        "ApiTokenSecret",
      );
      // The API functions read no upstream setting; only POST needs the report function.
      const names = Object.keys(variablesOf(functionId));
      expect(
        names.filter((n) => /^(MODELARTS_|IAM_|PRICE_TABLE)/.test(n)),
        functionId,
      ).toEqual([]);
      expect(names.includes("REPORT_FUNCTION_NAME"), functionId).toBe(
        functionId === "PostReportsLambdaFunction",
      );
    }
    // Left empty at deploy time, the endpoint fails the report function (not the API).
    expect(variablesOf(REPORT_FUNCTION).MODELARTS_ENDPOINT).toBe("");
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
      // Only the function that scans holds its heap close to what it keeps (heap-policy.ts).
      expect(code.includes("--heap-growing-percent="), id).toBe(id === REPORT_FUNCTION);
    }
  });
});

describe("the packaged stack with --param timezone=Europe/Berlin", () => {
  let dir: string;
  let template: Template;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sls-package-"));
    template = await packageService(dir, ["--param=timezone=Europe/Berlin"]);
  }, PACKAGE_TIMEOUT_MS);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs the schedule and the report in that time zone", () => {
    const [, schedule] = ofType(template, "AWS::Scheduler::Schedule")[0] ?? [];
    expect(schedule?.ScheduleExpressionTimezone).toBe("Europe/Berlin");
    const variables = (props(template, REPORT_FUNCTION).Environment as { Variables: Props })
      .Variables;
    expect(variables.REPORT_TIMEZONE).toBe("Europe/Berlin");
  });
});
