import { describe, expect, it } from "vitest";
import { node22Present } from "../helpers/node22.js";
import { runStateMachine, validateDefinition } from "../helpers/state-machine.js";

/**
 * What a definition may use when it runs in the harness (aws-local-stepfunctions 3.0.0), each
 * checked against the output Step Functions documents for it. Where the library differs from
 * Step Functions, the test says so in its name and pins the library's behaviour, so that a
 * new version that changes it shows up here.
 */

const input = {
  date: "2026-12-01",
  scans: [
    { source: "alpha", failed: false, versions: 5 },
    { source: "beta", failed: true, versions: 0 },
    { source: "gamma", failed: false, versions: 5 },
  ],
};

/** One Pass state with these Parameters, run on `input`. */
async function pass(parameters: Record<string, unknown>, executionName = "daily-2026-12-01") {
  const definition = {
    StartAt: "P",
    States: { P: { Type: "Pass", Parameters: parameters, End: true } },
  };
  expect(validateDefinition(definition)).toEqual({ valid: true, errors: [] });
  return runStateMachine(definition, input, { executionName, resolveTask: async () => null });
}

describe.runIf(node22Present())("what the harness's library gives a definition", () => {
  it("evaluates JSONPath filter expressions in Parameters", async () => {
    const run = await pass({
      "failed.$": "$.scans[?(@.failed)]",
      "failedSources.$": "$.scans[?(@.failed == true)].source",
      "large.$": "$.scans[?(@.versions > 4)].source",
      "sources.$": "$.scans[*].source",
    });
    expect(run.output).toEqual({
      failed: [{ source: "beta", failed: true, versions: 0 }],
      failedSources: ["beta"],
      large: ["alpha", "gamma"],
      sources: ["alpha", "beta", "gamma"],
    });
  });

  it("evaluates States.ArrayLength, States.Format (nested too) and States.JsonToString", async () => {
    const run = await pass({
      "count.$": "States.ArrayLength($.scans)",
      "failedCount.$": "States.ArrayLength($.scans[?(@.failed)])",
      "title.$": "States.Format('{} sources on {}', States.ArrayLength($.scans), $.date)",
      "json.$": "States.JsonToString($.scans[?(@.failed)].source)",
    });
    expect(run.output).toEqual({
      count: 3,
      failedCount: 1,
      title: "3 sources on 2026-12-01",
      json: '["beta"]',
    });
  });

  it("evaluates the other intrinsics a fan-out may use", async () => {
    const run = await pass({
      "first.$": "States.ArrayGetItem($.scans[*].source, 0)",
      "parsed.$": "States.StringToJson('{\"a\":1}')",
      "sum.$": "States.MathAdd(States.ArrayLength($.scans), 1)",
      "unique.$": "States.ArrayUnique($.scans[*].versions)",
      "chunks.$": "States.ArrayPartition($.scans[*].source, 2)",
      "contains.$": "States.ArrayContains($.scans[*].source, 'beta')",
    });
    expect(run.output).toEqual({
      first: "alpha",
      parsed: { a: 1 },
      sum: 4,
      unique: [5, 0],
      chunks: [["alpha", "beta"], ["gamma"]],
      contains: true,
    });
  });

  it("lets States.JsonMerge overwrite its first argument in the state's input (Step Functions does not)", async () => {
    const run = await pass({
      "merged.$": "States.JsonMerge($.scans[0], $.scans[1], false)",
      "first.$": "$.scans[0].source",
    });
    // The library merges with Object.assign(first, second): the fields after it see scans[0]
    // as the merge. Step Functions would give "alpha". Merge into a copy or avoid JsonMerge.
    expect(run.output).toEqual({
      merged: { source: "beta", failed: true, versions: 0 },
      first: "beta",
    });
  });

  it("gives the context object's Execution and StateMachine fields", async () => {
    const run = await pass({
      "name.$": "$$.Execution.Name",
      "id.$": "$$.Execution.Id",
      "input.$": "$$.Execution.Input.date",
      "machine.$": "$$.StateMachine.Name",
    });
    expect(run.output).toEqual({
      name: "daily-2026-12-01",
      id: "arn:aws:states:eu-central-1:123456789012:execution:StateMachine:daily-2026-12-01",
      input: "2026-12-01",
      machine: "StateMachine",
    });
  });

  it("has no $$.State or $$.Task in the context object (Step Functions has them)", async () => {
    const run = await pass({ "state.$": "$$.State.Name" });
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("States.Runtime");
    expect(run.cause).toBe("Path expression '$$.State.Name' does not point to a value");
  });

  it("gives a Map iteration's own input as $$.Execution.Input (Step Functions gives the execution's)", async () => {
    const definition = {
      StartAt: "M",
      States: {
        M: {
          Type: "Map",
          ItemsPath: "$.scans",
          ItemSelector: { "source.$": "$$.Map.Item.Value.source", "index.$": "$$.Map.Item.Index" },
          ItemProcessor: {
            StartAt: "P",
            States: {
              P: {
                Type: "Pass",
                Parameters: {
                  "name.$": "$$.Execution.Name",
                  "input.$": "$$.Execution.Input",
                },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };
    const run = await runStateMachine(definition, input, {
      executionName: "daily-2026-12-01",
      resolveTask: async () => null,
    });
    expect(run.output).toEqual(
      ["alpha", "beta", "gamma"].map((source, index) => ({
        name: "daily-2026-12-01",
        input: { source, index },
      })),
    );
  });

  it("runs the arn:aws:states:::lambda:invoke integration with its FunctionName and Payload", async () => {
    const definition = {
      StartAt: "Plan",
      States: {
        Plan: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          Parameters: { FunctionName: "plan", "Payload.$": "$.date" },
          ResultSelector: { "plan.$": "$.Payload", "status.$": "$.StatusCode" },
          End: true,
        },
      },
    };
    expect(validateDefinition(definition).valid).toBe(true);
    const run = await runStateMachine(definition, input, {
      resolveTask: async (functionName, payload) => ({ functionName, payload }),
    });
    expect(run.output).toEqual({
      plan: { functionName: "plan", payload: "2026-12-01" },
      status: 200,
    });
  });

  it("is refused a JSONPath function such as .length() by asl-validator (use States.ArrayLength)", () => {
    const result = validateDefinition({
      StartAt: "P",
      States: { P: { Type: "Pass", Parameters: { "n.$": "$.scans.length()" }, End: true } },
    });
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([
      'SCHEMA_VALIDATION_FAILED: /States/P/Parameters/n.$ is invalid. must match format "asl_payload_template"',
    ]);
  });
});
