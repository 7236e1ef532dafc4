import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CfnSpec,
  loadCfnSpec,
  type Problem,
  type ProblemKind,
  validateTemplate,
} from "../helpers/cfn-spec.js";
import { PACKAGE_TIMEOUT_MS, packageDir, packageService } from "../helpers/serverless-package.js";

/**
 * The template `serverless package` compiles, checked against the CloudFormation registry
 * schemas as published (@aws-cdk/aws-service-spec), not against what we think CloudFormation
 * takes: the deploy would otherwise be the first to tell us of an unknown property or a
 * missing one. (`--param=alarmEmail=…` changes only a value, the conditional subscription's
 * Endpoint, so one package covers the resources.)
 */

type Json = Record<string, unknown>;

const only = (problems: Problem[], kind: ProblemKind) => problems.filter((p) => p.kind === kind);

let spec: CfnSpec;

beforeAll(() => {
  spec = loadCfnSpec();
});

describe("the packaged template against the CloudFormation registry schemas", () => {
  let dir: string;
  let template: Json;
  let problems: Problem[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sls-cfn-spec-"));
    await packageService(dir);
    const path = join(packageDir(dir), "cloudformation-template-update-stack.json");
    template = JSON.parse(await readFile(path, "utf8")) as Json;
    problems = validateTemplate(template, spec);
  }, PACKAGE_TIMEOUT_MS);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("uses only resource types CloudFormation has", () => {
    expect(only(problems, "unknown-type")).toEqual([]);
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map(
      (r) => r.Type,
    );
    // What the project relies on is there to be checked (not skipped as custom resources).
    expect(types).toEqual(
      expect.arrayContaining([
        "AWS::Lambda::Function",
        "AWS::StepFunctions::StateMachine",
        "AWS::Scheduler::Schedule",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::IAM::Role",
        "AWS::ApiGatewayV2::Stage",
        "AWS::S3::Bucket",
        "AWS::SecretsManager::Secret",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::Events::Rule",
        "AWS::Lambda::Permission",
      ]),
    );
    expect(types.filter((type) => !spec.resources.has(type))).toEqual([]);
  });

  it("uses only properties each type has, down through nested property types", () => {
    expect(only(problems, "unknown-property")).toEqual([]);
  });

  it("gives every resource and nested property type its required properties", () => {
    expect(only(problems, "missing-property")).toEqual([]);
  });

  it("gives every property a value of its type (or an intrinsic function)", () => {
    expect(only(problems, "wrong-type")).toEqual([]);
  });

  it("refers (Ref, Fn::GetAtt, Fn::Sub, DependsOn, Condition) only to what exists", () => {
    expect(only(problems, "unknown-target")).toEqual([]);
    expect(only(problems, "unknown-attribute")).toEqual([]);
  });

  it("has no other problem", () => {
    expect(problems).toEqual([]);
  });

  it("would be caught with a property renamed, dropped, mistyped, or a wrong attribute", () => {
    const broken = structuredClone(template);
    const resources = broken.Resources as Record<string, { Properties: Json }>;
    const propsOf = (id: string) => {
      const resource = resources[id];
      if (resource === undefined) throw new Error(`the template has no ${id}`);
      return resource.Properties;
    };
    delete propsOf("PublishLambdaFunction").Role;
    (propsOf("HttpApiStage").DefaultRouteSettings as Json).ThrottlingRateLimit = "10";
    propsOf("ReportBucket").VersioningConfiguration = { Stat: "Enabled" };
    propsOf("ReportRunFailedAlarm").Dimensions = [
      {
        Name: "StateMachineArn",
        Value: { "Fn::GetAtt": ["ReportStateMachine", "StateMachineArn"] },
      },
    ];
    delete propsOf("ReportStateMachine").RoleArn;
    ((propsOf("ReportSchedule").Target as Json).RetryPolicy as Json).MaximumRetryAttempt = 185;
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    const found = validateTemplate(broken, spec).map(({ kind, path }) => ({ kind, path }));
    expect(found.sort(byPath)).toEqual(
      [
        { kind: "missing-property", path: "Resources.PublishLambdaFunction.Properties.Role" },
        { kind: "missing-property", path: "Resources.ReportStateMachine.Properties.RoleArn" },
        {
          kind: "unknown-property",
          path: "Resources.ReportSchedule.Properties.Target.RetryPolicy.MaximumRetryAttempt",
        },
        {
          kind: "wrong-type",
          path: "Resources.HttpApiStage.Properties.DefaultRouteSettings.ThrottlingRateLimit",
        },
        {
          kind: "unknown-property",
          path: "Resources.ReportBucket.Properties.VersioningConfiguration.Stat",
        },
        {
          kind: "missing-property",
          path: "Resources.ReportBucket.Properties.VersioningConfiguration.Status",
        },
        {
          kind: "unknown-attribute",
          path: "Resources.ReportRunFailedAlarm.Properties.Dimensions[0].Value.Fn::GetAtt",
        },
      ].sort(byPath),
    );
  });
});

/** A small template that is valid, with intrinsics in the places they may go. */
function validTemplate(): Json {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Parameters: { Retention: { Type: "Number", Default: 345600 } },
    Conditions: {
      Long: { "Fn::Not": [{ "Fn::Equals": [{ Ref: "Retention" }, 345600] }] },
      Either: { "Fn::Or": [{ Condition: "Long" }, { "Fn::Equals": ["a", "b"] }] },
    },
    Resources: {
      Queue: {
        Type: "AWS::SQS::Queue",
        Properties: {
          MessageRetentionPeriod: { Ref: "Retention" },
          SqsManagedSseEnabled: { "Fn::If": ["Long", true, { Ref: "AWS::NoValue" }] },
          Tags: [{ Key: "stack", Value: { Ref: "AWS::StackName" } }],
        },
      },
      Bucket: {
        Type: "AWS::S3::Bucket",
        Condition: "Either",
        DeletionPolicy: "Retain",
        Properties: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub, not a JS template
          BucketName: { "Fn::Sub": "${AWS::StackName}-${AWS::AccountId}-data" },
          VersioningConfiguration: { Status: "Enabled" },
          LifecycleConfiguration: {
            Rules: [{ Status: "Enabled", NoncurrentVersionExpiration: { NoncurrentDays: 30 } }],
          },
        },
      },
      Function: {
        Type: "AWS::Lambda::Function",
        DependsOn: ["Queue"],
        Properties: {
          Code: { ZipFile: "exports.handler = async () => {};" },
          Role: { "Fn::GetAtt": ["Role", "Arn"] },
          Handler: "index.handler",
          Runtime: "nodejs22.x",
          Timeout: 30,
          Environment: {
            Variables: {
              QUEUE_ARN: { "Fn::GetAtt": "Queue.Arn" },
              // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub, not a JS template
              BUCKET: { "Fn::Sub": ["${Name}-${Queue.QueueName}", { Name: { Ref: "Queue" } }] },
              PLAIN: { "Fn::Join": ["-", ["a", { Ref: "AWS::Region" }]] },
            },
          },
        },
      },
      Role: {
        Type: "AWS::IAM::Role",
        Properties: {
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "lambda.amazonaws.com" },
                Action: "sts:AssumeRole",
              },
            ],
          },
        },
      },
    },
    Outputs: { QueueUrl: { Value: { "Fn::GetAtt": ["Queue", "QueueUrl"] } } },
  };
}

type Resources = Record<string, { Type: string; Properties: Json } & Json>;

const resourcesOf = (template: Json) => template.Resources as Resources;
function propsOf(template: Json, id: string): Json {
  const resource = resourcesOf(template)[id];
  if (resource === undefined) throw new Error(`no resource ${id}`);
  return resource.Properties;
}

describe("validateTemplate (the check above, shown to bite)", () => {
  it("finds nothing wrong with a valid template", () => {
    expect(validateTemplate(validTemplate(), spec)).toEqual([]);
  });

  const cases: [string, (t: Json) => void, ProblemKind, string][] = [
    [
      "an unknown resource type",
      (t) => {
        (resourcesOf(t).Queue as Json).Type = "AWS::SQS::Queueue";
      },
      "unknown-type",
      "Resources.Queue.Type",
    ],
    [
      "an unknown property",
      (t) => {
        propsOf(t, "Function").TimeoutSeconds = 30;
      },
      "unknown-property",
      "Resources.Function.Properties.TimeoutSeconds",
    ],
    [
      "an unknown property of a nested type, two levels down",
      (t) => {
        const lifecycle = propsOf(t, "Bucket").LifecycleConfiguration as { Rules: Json[] };
        (lifecycle.Rules[0] as Json).NoncurrentVersionExpiration = {
          NoncurrentDays: 30,
          NoncurrentDay: 30,
        };
      },
      "unknown-property",
      "Resources.Bucket.Properties.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration.NoncurrentDay",
    ],
    [
      "an unknown resource attribute",
      (t) => {
        (resourcesOf(t).Queue as Json).DeletePolicy = "Retain";
      },
      "unknown-property",
      "Resources.Queue.DeletePolicy",
    ],
    [
      "a missing required property",
      (t) => {
        delete propsOf(t, "Function").Code;
      },
      "missing-property",
      "Resources.Function.Properties.Code",
    ],
    [
      "a missing required property of a nested type",
      (t) => {
        propsOf(t, "Bucket").VersioningConfiguration = {};
      },
      "missing-property",
      "Resources.Bucket.Properties.VersioningConfiguration.Status",
    ],
    [
      "a required property set to AWS::NoValue",
      (t) => {
        propsOf(t, "Function").Role = { Ref: "AWS::NoValue" };
      },
      "missing-property",
      "Resources.Function.Properties.Role",
    ],
    [
      "a string for an integer",
      (t) => {
        propsOf(t, "Function").Timeout = "30";
      },
      "wrong-type",
      "Resources.Function.Properties.Timeout",
    ],
    [
      "a fraction for an integer",
      (t) => {
        propsOf(t, "Function").Timeout = 2.5;
      },
      "wrong-type",
      "Resources.Function.Properties.Timeout",
    ],
    [
      "a number for a string",
      (t) => {
        propsOf(t, "Function").Handler = 1;
      },
      "wrong-type",
      "Resources.Function.Properties.Handler",
    ],
    [
      "a string for a boolean, in a branch of Fn::If",
      (t) => {
        propsOf(t, "Queue").SqsManagedSseEnabled = { "Fn::If": ["Long", "yes", false] };
      },
      "wrong-type",
      "Resources.Queue.Properties.SqsManagedSseEnabled.Fn::If[1]",
    ],
    [
      "an object for a list",
      (t) => {
        propsOf(t, "Queue").Tags = { Key: "stack", Value: "x" };
      },
      "wrong-type",
      "Resources.Queue.Properties.Tags",
    ],
    [
      "a tag without a value",
      (t) => {
        propsOf(t, "Queue").Tags = [{ Key: "stack" }];
      },
      "missing-property",
      "Resources.Queue.Properties.Tags[0].Value",
    ],
    [
      "a list for a map of strings",
      (t) => {
        (propsOf(t, "Function").Environment as Json).Variables = ["A=1"];
      },
      "wrong-type",
      "Resources.Function.Properties.Environment.Variables",
    ],
    [
      "a string (Fn::Sub) for a nested property type",
      (t) => {
        propsOf(t, "Bucket").VersioningConfiguration = { "Fn::Sub": "Enabled" };
      },
      "wrong-type",
      "Resources.Bucket.Properties.VersioningConfiguration",
    ],
    [
      "an unknown GetAtt attribute",
      (t) => {
        propsOf(t, "Function").Role = { "Fn::GetAtt": ["Role", "Arnn"] };
      },
      "unknown-attribute",
      "Resources.Function.Properties.Role.Fn::GetAtt",
    ],
    [
      "an unknown GetAtt attribute in Fn::Sub",
      (t) => {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub, not a JS template
        propsOf(t, "Bucket").BucketName = { "Fn::Sub": "${Queue.Name}-data" };
      },
      "unknown-attribute",
      "Resources.Bucket.Properties.BucketName.Fn::Sub",
    ],
    [
      "a GetAtt of a resource that is not there",
      (t) => {
        propsOf(t, "Function").Role = { "Fn::GetAtt": "FunctionRole.Arn" };
      },
      "unknown-target",
      "Resources.Function.Properties.Role.Fn::GetAtt",
    ],
    [
      "a Ref to nothing",
      (t) => {
        propsOf(t, "Queue").MessageRetentionPeriod = { Ref: "RetentionSeconds" };
      },
      "unknown-target",
      "Resources.Queue.Properties.MessageRetentionPeriod.Ref",
    ],
    [
      "a Fn::Sub variable that is nothing",
      (t) => {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub, not a JS template
        propsOf(t, "Bucket").BucketName = { "Fn::Sub": "${AWS::StackName}-${Stage}" };
      },
      "unknown-target",
      "Resources.Bucket.Properties.BucketName.Fn::Sub",
    ],
    [
      "a DependsOn of a resource that is not there",
      (t) => {
        (resourcesOf(t).Function as Json).DependsOn = "DeadLetterQueue";
      },
      "unknown-target",
      "Resources.Function.DependsOn",
    ],
    [
      "a condition that is not there",
      (t) => {
        (resourcesOf(t).Bucket as Json).Condition = "HasBucket";
      },
      "unknown-target",
      "Resources.Bucket.Condition",
    ],
    [
      "a Ref to nothing in an output",
      (t) => {
        t.Outputs = { Name: { Value: { Ref: "Topic" } } };
      },
      "unknown-target",
      "Outputs.Name.Value.Ref",
    ],
  ];

  it.each(cases)("rejects %s", (_, breakIt, kind, path) => {
    const template = validTemplate();
    breakIt(template);
    const problems = validateTemplate(template, spec);
    expect(problems.map((p) => ({ kind: p.kind, path: p.path }))).toEqual([{ kind, path }]);
  });
});
