import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  type SecretsManagerStandIn,
  type SnsStandIn,
  type StartedExecution,
  type StepFunctionsStandIn,
  startSecretsManager,
  startSns,
  startStepFunctions,
} from "../helpers/aws-standins.js";
import {
  type InvokeResult,
  type LambdaProcess,
  lambdaVariables,
  startLambdaProcess,
} from "../helpers/lambda-runtime.js";
import { allowS3Keys, type LocalS3, startS3 } from "../helpers/s3.js";
import { type S3Call, startS3Recorder } from "../helpers/s3-recorder.js";
import {
  type Props,
  packageDir,
  packageService,
  type Template,
  unzip,
} from "../helpers/serverless-package.js";
import {
  lambdaTasks,
  runStateMachine,
  type StateMachineRun,
  type TaskCall,
} from "../helpers/state-machine.js";
import { compiledDefinition } from "../helpers/state-machine-definition.js";

/** A rule's delivery of an event to a function, as EventBridge makes it (asynchronously). */
export interface RuleDelivery {
  readonly rule: string;
  readonly function: string;
  /** Each attempt: Lambda tries a failed asynchronous invocation twice more. */
  readonly attempts: readonly InvokeResult[];
}

/**
 * An execution's end, the Tasks it called (retries included), in order, and where
 * EventBridge's rules of the template sent its status-change event.
 */
export type ExecutionOutcome = (
  | { readonly status: "SUCCEEDED"; readonly output: unknown }
  | {
      readonly status: "FAILED" | "TIMED_OUT";
      readonly error: string;
      readonly cause: string;
    }
) & {
  readonly calls: readonly TaskCall[];
  readonly run: StateMachineRun;
  readonly deliveries: readonly RuleDelivery[];
};

/**
 * The stack as `serverless deploy` would create it, run on this machine: a real
 * `serverless package` of a deployed stage, and every function of the compiled template in a
 * node process of its own, from its own zip, with exactly its `Environment.Variables`. The
 * template's intrinsics resolve to loopback stand-ins: the bucket is in s3rver, the secrets
 * in a Secrets Manager stand-in, the state machine behind a Step Functions stand-in (which
 * records the executions started; `execute` runs one through the compiled definition, each
 * Task calling its packaged function's process), all reached through the SDK's standard
 * endpoint variables. Nothing in src/ knows it is under test.
 */

export const REGION = "eu-central-1";
export const ACCOUNT = "123456789012";
/**
 * The temporary keys of a function's role, as Lambda hands them over in the environment: one
 * access key id per function (`ASIA` and its name, `PlanLambdaFunction` → `ASIAPLAN`), so every
 * recorded AWS call says which function, and so which role, made it.
 */
export function functionKeys(logicalId: string) {
  const name = logicalId.replace(/LambdaFunction$/, "").toUpperCase();
  return {
    AWS_ACCESS_KEY_ID: `ASIA${name}`,
    AWS_SECRET_ACCESS_KEY: `deployed-test-secret-access-key-${logicalId}`,
    AWS_SESSION_TOKEN: `deployed-test-session-token-${logicalId}`,
  };
}

export interface StackOptions {
  readonly dir: string;
  readonly stage: string;
  /** `--param=name=value` for serverless package. */
  readonly params: Record<string, string>;
  /** Secret values by logical id (the template only says where a secret is). */
  readonly secretValues: Record<string, string>;
}

export interface DeployedFunction {
  readonly logicalId: string;
  readonly name: string;
  readonly handler: string;
  /** The logical id of its execution role (its `Role` property). */
  readonly role: string;
  /** The access key id of its role's keys, as its AWS calls are signed with. */
  readonly accessKeyId: string;
  /** Exactly what the template gives it, intrinsics resolved. */
  readonly templateVariables: Record<string, string>;
  /** The whole environment of its process: the template's variables and Lambda's own. */
  readonly env: Record<string, string>;
  readonly process: LambdaProcess;
}

export interface Stack {
  readonly template: Template;
  readonly bucket: string;
  /**
   * s3rver; its `endpoint` is the one the functions are given, a recording proxy in front
   * (its `client` talks to s3rver directly, so the test's own calls are not recorded).
   */
  readonly s3: LocalS3;
  /** Every S3 request the functions made (and presigned URLs they handed out were used for). */
  readonly s3Calls: readonly S3Call[];
  /**
   * The state machine's own AWS calls: each Task's invocation of its function (the ARN, or
   * lambda:invoke's FunctionName), retries included, across every `execute`.
   */
  readonly taskInvocations: readonly { readonly state: string; readonly functionArn: string }[];
  /** The executions `execute` started itself (not through StartExecution), with their input. */
  readonly directStarts: readonly { readonly name: string; readonly input: unknown }[];
  /** Resolves an intrinsic of the template as this stack's resources give it (stack names). */
  resolve(value: unknown, where: string): string;
  readonly secrets: SecretsManagerStandIn;
  readonly stepFunctions: StepFunctionsStandIn;
  /** The stack's SNS topics (their Refs), and what the functions published to them. */
  readonly sns: SnsStandIn;
  /** The HTTP API's URL as the template gives it to functions (`https://<id>.execute-api…`). */
  readonly apiUrl: string;
  /** The state machine's ARN (its Ref). */
  readonly stateMachineArn: string;
  /** By logical id. */
  readonly functions: ReadonlyMap<string, DeployedFunction>;
  /** The function behind an HTTP API route key such as `GET /reports/{date}`. */
  routeFunction(routeKey: string): DeployedFunction;
  /** API Gateway's part: the payload 2.0 event goes to its route's function. */
  request(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2>;
  /**
   * Runs an execution through the compiled definition (DefinitionSubstitutions resolved to the
   * functions' ARNs): a started one (it is then finished with its outcome), or an input with a
   * name, as EventBridge Scheduler's start would give it.
   */
  execute(
    execution: StartedExecution | { name: string; input: unknown },
  ): Promise<ExecutionOutcome>;
  /** A further process of a function, with variables changed (for misconfiguration tests). */
  startVariant(logicalId: string, changes: Record<string, string>): Promise<LambdaProcess>;
  close(): Promise<void>;
}

const ofType = (template: Template, type: string): [string, Props][] =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);

/** Refs and attributes of the resources the functions' variables can point at. */
interface Names {
  refs: Map<string, string>;
  attributes: Map<string, string>;
}

/**
 * Resolves the intrinsics a template's environment uses (Ref, Fn::GetAtt, Fn::Sub, Fn::Join);
 * anything else fails, so a new kind of value cannot slip through unresolved.
 */
export function resolveIntrinsic(value: unknown, names: Names, where: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key === "Ref" && typeof arg === "string") {
      const ref = names.refs.get(arg);
      if (ref !== undefined) return ref;
    }
    if (entries.length === 1 && key === "Fn::GetAtt" && Array.isArray(arg)) {
      const attribute = names.attributes.get(arg.join("."));
      if (attribute !== undefined) return attribute;
    }
    if (entries.length === 1 && key === "Fn::Sub" && typeof arg === "string") {
      return arg.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const found = names.refs.get(name) ?? names.attributes.get(name);
        if (found === undefined) throw new Error(`${where}: cannot resolve \${${name}}`);
        return found;
      });
    }
    if (entries.length === 1 && key === "Fn::Join" && Array.isArray(arg)) {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((p) => resolveIntrinsic(p, names, where)).join(separator);
    }
  }
  throw new Error(`${where}: cannot resolve ${JSON.stringify(value)}`);
}

/**
 * Whether an EventBridge event pattern matches `event`: the patterns this template uses, keys
 * with lists of exact values and nested objects; any other operator is refused, so a pattern
 * this cannot judge is never taken as matching.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (typeof pattern !== "object" || pattern === null || Array.isArray(pattern)) {
    throw new Error(`not an event pattern: ${JSON.stringify(pattern)}`);
  }
  return Object.entries(pattern).every(([key, want]) => {
    const value =
      typeof event === "object" && event !== null
        ? (event as Record<string, unknown>)[key]
        : undefined;
    if (Array.isArray(want)) {
      if (!want.every((w) => typeof w === "string" || typeof w === "number")) {
        throw new Error(`an operator this harness does not judge: ${JSON.stringify(want)}`);
      }
      return want.includes(value as string | number);
    }
    return matchesPattern(want, value);
  });
}

/** Intrinsics anywhere in a value resolved (a rule's pattern names the state machine by Ref). */
function resolveDeep(value: unknown, names: Names, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, names, where));
  if (typeof value !== "object" || value === null) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === "Ref" || keys[0]?.startsWith("Fn::"))) {
    return resolveIntrinsic(value, names, where);
  }
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, resolveDeep(v, names, `${where}.${k}`)]),
  );
}

/** The logical id a `{"Ref": id}` or `{"Fn::GetAtt": [id, …]}` names. */
export function logicalId(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === "string") return ref;
  const getAtt = (value as { "Fn::GetAtt"?: unknown })["Fn::GetAtt"];
  return Array.isArray(getAtt) && typeof getAtt[0] === "string" ? getAtt[0] : undefined;
}

/** The logical id a `{"Fn::GetAtt": [id, "Arn"]}` names: nothing else gives an ARN here. */
function arnOf(value: unknown): string | undefined {
  const getAtt = (value as { "Fn::GetAtt"?: unknown } | null)?.["Fn::GetAtt"];
  return Array.isArray(getAtt) && getAtt[1] === "Arn" && typeof getAtt[0] === "string"
    ? getAtt[0]
    : undefined;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const params = Object.entries(opts.params).map(([k, v]) => `--param=${k}=${v}`);
  const template = await packageService(opts.dir, params, opts.stage);
  const stackName = `modelarts-usage-report-${opts.stage}`;
  const names: Names = {
    refs: new Map([
      ["AWS::StackName", stackName],
      ["AWS::AccountId", ACCOUNT],
      ["AWS::Region", REGION],
      ["AWS::Partition", "aws"],
      ["AWS::URLSuffix", "amazonaws.com"],
    ]),
    attributes: new Map(),
  };

  // Buckets: the report bucket's name is a Fn::Sub of pseudo parameters; serverless's own
  // deployment bucket has a generated one.
  const buckets: string[] = [];
  for (const [id, p] of ofType(template, "AWS::S3::Bucket")) {
    const name =
      p.BucketName === undefined
        ? `${stackName}-${id.toLowerCase()}-1a2b3c`
        : resolveIntrinsic(p.BucketName, names, id);
    names.refs.set(id, name);
    names.attributes.set(`${id}.Arn`, `arn:aws:s3:::${name}`);
    if (p.BucketName !== undefined) buckets.push(name);
  }
  const [bucket] = buckets;
  if (bucket === undefined || buckets.length !== 1) throw new Error("expected one named bucket");

  // Secrets: Ref gives the ARN, which carries a random suffix after the name.
  const secretEntries = ofType(template, "AWS::SecretsManager::Secret").map(([id, p]) => {
    const name = resolveIntrinsic(p.Name, names, id);
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-Ab12Cd`;
    names.refs.set(id, arn);
    const value = opts.secretValues[id];
    if (value === undefined) throw new Error(`no value given for the secret ${id}`);
    return { arn, name, value };
  });

  // SNS topics: Ref gives the ARN, a generated name when the template sets none.
  const topics = ofType(template, "AWS::SNS::Topic").map(([id, p]) => {
    const name =
      p.TopicName === undefined
        ? `${stackName}-${id}-1A2B3C4D5E6F`
        : resolveIntrinsic(p.TopicName, names, id);
    const arn = `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
    names.refs.set(id, arn);
    return arn;
  });
  // EventBridge rules on the default bus: GetAtt Arn.
  const rules = ofType(template, "AWS::Events::Rule");
  for (const [id] of rules) {
    names.attributes.set(
      `${id}.Arn`,
      `arn:aws:events:${REGION}:${ACCOUNT}:rule/${stackName}-${id}`,
    );
  }
  // The HTTP API: Ref gives its id, the first part of its host name.
  const apis = ofType(template, "AWS::ApiGatewayV2::Api");
  for (const [id] of apis) names.refs.set(id, "a1b2c3d4e5");
  const apiUrl = `https://a1b2c3d4e5.execute-api.${REGION}.amazonaws.com`;

  // Functions: Ref gives the name.
  const functionIds = ofType(template, "AWS::Lambda::Function");
  for (const [id, p] of functionIds) {
    const name = resolveIntrinsic(p.FunctionName, names, id);
    names.refs.set(id, name);
    names.attributes.set(`${id}.Arn`, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`);
  }
  // State machines: Ref gives the ARN.
  const machines = ofType(template, "AWS::StepFunctions::StateMachine");
  for (const [id, p] of machines) {
    const name = resolveIntrinsic(p.StateMachineName, names, id);
    names.refs.set(id, `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`);
  }
  const [machine] = machines;
  if (machine === undefined || machines.length !== 1) throw new Error("expected one state machine");
  const stateMachineArn = names.refs.get(machine[0]) as string;
  const { definition } = compiledDefinition(template, machine[0], (value, name) =>
    resolveIntrinsic(value, names, `${machine[0]}.${name}`),
  );

  const s3 = await startS3();
  for (const [id] of functionIds) {
    const keys = functionKeys(id);
    allowS3Keys(keys.AWS_ACCESS_KEY_ID, keys.AWS_SECRET_ACCESS_KEY);
  }
  await s3.createBucket(bucket);
  const recorder = await startS3Recorder(s3.endpoint);
  const secrets = await startSecretsManager(secretEntries);
  const stepFunctions = await startStepFunctions({ stateMachines: [stateMachineArn] });
  const sns = await startSns({ topics });
  const endpoints = {
    AWS_ENDPOINT_URL_SNS: sns.endpoint,
    AWS_ENDPOINT_URL_S3: recorder.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint,
  };

  const functions = new Map<string, DeployedFunction>();
  const environments = new Map<string, Record<string, string>>();
  for (const [id, p] of functionIds) {
    const name = names.refs.get(id) as string;
    const handler = p.Handler as string;
    const role = (p.Role as { "Fn::GetAtt"?: [string, string] } | undefined)?.["Fn::GetAtt"]?.[0];
    if (role === undefined) throw new Error(`${id} has no role of the template`);
    const key = (p.Code as { S3Key: string }).S3Key;
    const zip = await readFile(join(packageDir(opts.dir), key.slice(key.lastIndexOf("/") + 1)));
    const taskRoot = join(opts.dir, "functions", id);
    for (const [file, body] of unzip(zip)) {
      if (file.endsWith("/")) continue;
      await mkdir(dirname(join(taskRoot, file)), { recursive: true });
      await writeFile(join(taskRoot, file), body);
    }
    const variables = (p.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    const templateVariables = Object.fromEntries(
      Object.entries(variables ?? {}).map(([k, v]) => [
        k,
        resolveIntrinsic(v, names, `${id}.${k}`),
      ]),
    );
    const env = {
      ...lambdaVariables({
        functionName: name,
        handler,
        taskRoot,
        region: REGION,
        memoryMb: typeof p.MemorySize === "number" ? p.MemorySize : 128,
      }),
      ...functionKeys(id),
      ...endpoints,
      ...templateVariables,
    };
    environments.set(id, env);
    const process = await startLambdaProcess(name, env);
    const { AWS_ACCESS_KEY_ID: accessKeyId } = functionKeys(id);
    functions.set(id, {
      logicalId: id,
      name,
      handler,
      role,
      accessKeyId,
      templateVariables,
      env,
      process,
    });
  }

  // Routes of the HTTP API: RouteKey → integration → function.
  const routes = new Map<string, string>();
  for (const [, route] of ofType(template, "AWS::ApiGatewayV2::Route")) {
    const join = (route.Target as { "Fn::Join": [string, unknown[]] })["Fn::Join"];
    const integrationId = (join[1][1] as { Ref: string }).Ref;
    const uri = template.Resources[integrationId]?.Properties?.IntegrationUri;
    const functionId = (uri as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    routes.set(route.RouteKey as string, functionId);
  }

  /**
   * EventBridge's part: Step Functions' status-change event of an ended execution, to each
   * rule of the template whose pattern matches, and to its targets, as far as Lambda's
   * resource policy (an AWS::Lambda::Permission of the template for that rule) lets it.
   */
  const permissions = ofType(template, "AWS::Lambda::Permission");
  async function deliverStatusChange(ended: {
    name: string;
    status: string;
    input: unknown;
    error: string | null;
    cause: string | null;
  }): Promise<RuleDelivery[]> {
    const machineName = stateMachineArn.slice(stateMachineArn.lastIndexOf(":") + 1);
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machineName}:${ended.name}`;
    const event = {
      version: "0",
      id: randomUUID(),
      "detail-type": "Step Functions Execution Status Change",
      source: "aws.states",
      account: ACCOUNT,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      region: REGION,
      resources: [executionArn],
      detail: {
        executionArn,
        stateMachineArn,
        name: ended.name,
        status: ended.status,
        startDate: Date.now() - 1000,
        stopDate: Date.now(),
        input: JSON.stringify(ended.input),
        inputDetails: { included: true },
        output: null,
        outputDetails: null,
        ...(ended.status === "SUCCEEDED" ? {} : { error: ended.error, cause: ended.cause }),
      },
    };
    const deliveries: RuleDelivery[] = [];
    for (const [ruleId, rule] of rules) {
      // Step Functions sends only to the default bus.
      if (rule.EventBusName !== undefined && rule.EventBusName !== "default") continue;
      const pattern = resolveDeep(rule.EventPattern, names, `${ruleId}.EventPattern`);
      if (rule.State === "DISABLED" || !matchesPattern(pattern, event)) continue;
      for (const ruleTarget of (rule.Targets ?? []) as Record<string, unknown>[]) {
        // What this harness does not carry out is refused, not ignored.
        const unknown = Object.keys(ruleTarget).filter(
          (k) => !["Id", "Arn", "RetryPolicy"].includes(k),
        );
        if (unknown.length > 0) throw new Error(`${ruleId}: target keys not emulated: ${unknown}`);
        // A function's ARN is its GetAtt Arn (its Ref is its name, which a target cannot take).
        const functionId = arnOf(ruleTarget.Arn) ?? "";
        const fn = functions.get(functionId);
        const allowed = permissions.some(
          ([, p]) =>
            p.Action === "lambda:InvokeFunction" &&
            p.Principal === "events.amazonaws.com" &&
            logicalId(p.FunctionName) === functionId &&
            arnOf(p.SourceArn) === ruleId,
        );
        if (fn === undefined || !allowed) {
          throw new Error(`${ruleId} targets ${functionId}, which no permission lets it invoke`);
        }
        const attempts: InvokeResult[] = [];
        for (let i = 0; i < 3; i++) {
          const result = await fn.process.invoke(event, 60_000);
          attempts.push(result);
          if (result.ok) break;
        }
        deliveries.push({ rule: ruleId, function: functionId, attempts });
      }
    }
    return deliveries;
  }

  const variants: LambdaProcess[] = [];
  const taskInvocations: { state: string; functionArn: string }[] = [];
  const directStarts: { name: string; input: unknown }[] = [];
  const stack: Stack = {
    template,
    bucket,
    s3: { ...s3, endpoint: recorder.endpoint },
    s3Calls: recorder.calls,
    taskInvocations,
    directStarts,
    resolve: (value, where) => resolveIntrinsic(value, names, where),
    secrets,
    stepFunctions,
    sns,
    apiUrl,
    stateMachineArn,
    functions,
    routeFunction(routeKey) {
      const fn = functions.get(routes.get(routeKey) ?? "");
      if (fn === undefined) throw new Error(`the template routes nothing to ${routeKey}`);
      return fn;
    },
    async request(event) {
      const result: InvokeResult = await stack
        .routeFunction(event.routeKey)
        .process.invoke(event, 29_000);
      // API Gateway answers 500 {"message":"Internal Server Error"} when the function throws.
      if (!result.ok) return { statusCode: 500, body: '{"message":"Internal Server Error"}' };
      return result.result as APIGatewayProxyStructuredResultV2;
    },
    async execute(execution) {
      const started = "executionArn" in execution ? execution : undefined;
      // aws-local-stepfunctions on Node 22 (test/helpers/state-machine.ts), each Task answered
      // by the packaged function behind its ARN, in its own process.
      const byArn = Object.fromEntries(
        [...functions.values()].map((f) => [
          names.attributes.get(`${f.logicalId}.Arn`) ?? f.logicalId,
          // Step Functions waits for a Task as long as its TimeoutSeconds; 900 s here too.
          { invoke: (event: unknown) => f.process.invoke(event, 900_000) },
        ]),
      );
      const input = started ? JSON.parse(started.input) : execution.input;
      if (!started) directStarts.push({ name: execution.name, input });
      const tasks = lambdaTasks(byArn);
      const run = await runStateMachine(definition, input, {
        // Each Task's invocation is the state machine role's call (lambda:InvokeFunction).
        resolveTask: (functionArn, taskInput, state) => {
          taskInvocations.push({ state, functionArn });
          return tasks(functionArn, taskInput, state);
        },
        executionName: execution.name,
        timeoutMs: 600_000,
      });
      const status = run.status;
      if (started) stepFunctions.finish(started.executionArn, status);
      const calls = run.taskCalls;
      const deliveries = await deliverStatusChange({
        name: execution.name,
        status,
        input,
        error: run.error ?? null,
        cause: run.cause ?? null,
      });
      return status === "SUCCEEDED"
        ? { status, output: run.output, calls, run, deliveries }
        : { status, error: run.error ?? "", cause: run.cause ?? "", calls, run, deliveries };
    },
    async startVariant(logicalId, changes) {
      const env = environments.get(logicalId);
      if (env === undefined) throw new Error(`no function ${logicalId}`);
      const process = await startLambdaProcess(`${logicalId}-variant`, { ...env, ...changes });
      variants.push(process);
      return process;
    },
    async close() {
      await Promise.all([...functions.values()].map((f) => f.process.close()));
      await Promise.all(variants.map((v) => v.close()));
      await stepFunctions.close();
      await sns.close();
      await secrets.close();
      await recorder.close();
      await s3.close();
      await rm(join(opts.dir, "functions"), { recursive: true, force: true });
    },
  };
  return stack;
}
