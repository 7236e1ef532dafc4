import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The deployment as CloudFormation: `serverless package` run for real (as CI does), with no
 * AWS credentials, then the generated template read back and checked against report.md §8.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGE_TIMEOUT_MS = 180_000;
const MAX_ZIP_BYTES = 5 * 1024 * 1024;
const REPORT_FUNCTION = "ReportLambdaFunction";
const API_FUNCTIONS: Record<string, string> = {
  "GET /reports": "ListReportsLambdaFunction",
  "GET /reports/{date}": "GetReportLambdaFunction",
  "GET /reports/{date}/files/{name}": "GetReportFileLambdaFunction",
  "POST /reports": "PostReportsLambdaFunction",
};
/** Managed policies a function role may carry: logging only, nothing that reaches data. */
const ALLOWED_MANAGED_POLICIES = [
  "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
];

type Props = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Props;
}
interface Template {
  Resources: Record<string, Resource>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
}

const execFileAsync = promisify(execFile);

/** The process environment minus anything that could give the CLI AWS credentials. */
function envWithoutCredentials(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("AWS_")) env[name] = value;
  }
  // Nor from ~/.aws or the instance metadata service.
  env.AWS_SHARED_CREDENTIALS_FILE = join(dir, "no-credentials");
  env.AWS_CONFIG_FILE = join(dir, "no-config");
  env.AWS_EC2_METADATA_DISABLED = "true";
  return env;
}

/** The files `serverless package` reads; node_modules is linked, not copied. */
const PROJECT_FILES = [
  "serverless.yml",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "src",
];

/**
 * Packages a copy of the project in `dir`: serverless-esbuild builds in `<service>/.esbuild`
 * and deletes it when done, which would pull the bundle from under a running `npm run dev`
 * (or a parallel `npm run package`) if this ran in the working tree.
 */
async function packageService(dir: string, extraArgs: string[] = []): Promise<Template> {
  const project = join(dir, "project");
  const outDir = join(dir, "package");
  for (const file of PROJECT_FILES) {
    await cp(join(ROOT, file), join(project, file), { recursive: true });
  }
  await symlink(join(ROOT, "node_modules"), join(project, "node_modules"), "dir");
  const args = ["serverless", "package", "--stage", "ci", "--package", outDir, ...extraArgs];
  try {
    await execFileAsync("npx", args, {
      cwd: project,
      env: envWithoutCredentials(dir),
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`npx ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
  const path = join(outDir, "cloudformation-template-update-stack.json");
  return JSON.parse(await readFile(path, "utf8")) as Template;
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

/** The files in a zip, by name, inflated: enough of the format to read our own bundles. */
function unzip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error("not a zip file");
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    files.set(name, method === 0 ? data : inflateRawSync(data));
    at += 46 + skip;
  }
  return files;
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
        .flatMap((s) => list(s.Resource).map(target));
    expect(secretsOf(REPORT_FUNCTION)).toEqual(["ModelArtsCredentialsSecret"]);
    for (const functionId of Object.values(API_FUNCTIONS)) {
      expect(secretsOf(functionId), functionId).toEqual(["ApiTokenSecret"]);
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
    }
  });

  it("packages each function as an ES module bundle under 5 MB", async () => {
    for (const [id, fn] of ofType(template, "AWS::Lambda::Function")) {
      const key = (fn.Code as { S3Key: string }).S3Key;
      const zipPath = join(dir, "package", key.slice(key.lastIndexOf("/") + 1));
      expect((await stat(zipPath)).size, id).toBeLessThan(MAX_ZIP_BYTES);
      // Handler "src/handlers/list-reports.handler" lives in src/handlers/list-reports.mjs.
      const handler = fn.Handler as string;
      const file = `${handler.slice(0, handler.lastIndexOf("."))}.mjs`;
      const code =
        unzip(await readFile(zipPath))
          .get(file)
          ?.toString("utf8") ?? "";
      // Bundled CommonJS dependencies call require(); the banner provides it in ESM.
      expect(code.startsWith("import { createRequire } from 'node:module';"), id).toBe(true);
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
