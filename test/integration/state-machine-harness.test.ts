import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lambdaVariables, startLambdaProcess } from "../helpers/lambda-runtime.js";
import { node22Present, node22Version } from "../helpers/node22.js";
import {
  lambdaTasks,
  runStateMachine,
  StateMachineDefinitionError,
  statesEntered,
  validateDefinition,
} from "../helpers/state-machine.js";

/**
 * The state machine harness: a definition shaped like issue 21's (a Map over sources whose
 * Task retries a transient error with backoff and turns any other error into a Fail), validated
 * with asl-validator and executed with aws-local-stepfunctions on Node 22, each Task answered
 * here. Also which JSONPath and intrinsic features the library gives a definition.
 */

const SCAN = "arn:aws:lambda:eu-central-1:123456789012:function:scan-source";
const PUBLISH = "arn:aws:lambda:eu-central-1:123456789012:function:publish";

const definition = {
  Comment: "Map over sources, then publish",
  StartAt: "ScanSources",
  States: {
    ScanSources: {
      Type: "Map",
      ItemsPath: "$.sources",
      MaxConcurrency: 2,
      ItemSelector: {
        "source.$": "$$.Map.Item.Value",
        "index.$": "$$.Map.Item.Index",
        "execution.$": "$$.Execution.Name",
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: "INLINE" },
        StartAt: "ScanSource",
        States: {
          ScanSource: {
            Type: "Task",
            Resource: SCAN,
            Retry: [
              {
                ErrorEquals: ["SourceTransientError"],
                IntervalSeconds: 30,
                BackoffRate: 2,
                MaxAttempts: 3,
              },
            ],
            Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "SourceFailed" }],
            End: true,
          },
          SourceFailed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
        },
      },
      ResultPath: "$.scans",
      Next: "Publish",
    },
    Publish: { Type: "Task", Resource: PUBLISH, End: true },
  },
};

const sources = ["alpha", "beta", "gamma"];

class SourceTransientError extends Error {
  override readonly name = "SourceTransientError";
}
class SourcePermanentError extends Error {
  override readonly name = "SourcePermanentError";
}

/** The scan of one source as the Task returns it; the publisher sums them. */
function scanOf(input: unknown): { source: string; versions: number } {
  const { source } = input as { source: string };
  return { source, versions: source.length };
}

async function publish(input: unknown) {
  const { scans } = input as { scans: { versions: number }[] };
  return { published: true, versions: scans.reduce((sum, scan) => sum + scan.versions, 0) };
}

function callsPerSource(calls: readonly { resource: string; input: unknown }[]) {
  const counts: Record<string, number> = {};
  for (const call of calls) {
    if (call.resource !== SCAN) continue;
    const { source } = call.input as { source: string };
    counts[source] = (counts[source] ?? 0) + 1;
  }
  return counts;
}

describe.runIf(node22Present())("the state machine harness", () => {
  it("validates the definition with asl-validator", () => {
    expect(validateDefinition(definition)).toEqual({ valid: true, errors: [] });
  });

  it("runs the Map over every source on Node 22 and publishes their scans", async () => {
    const run = await runStateMachine(
      definition,
      { sources },
      {
        executionName: "daily-2026-12-01",
        resolveTask: async (resource, input) =>
          resource === SCAN ? scanOf(input) : publish(input),
      },
    );
    expect(run.nodeVersion).toBe(node22Version());
    expect(run.nodeVersion).toMatch(/^v22\./);
    expect(run.status).toBe("SUCCEEDED");
    // alpha 5 + beta 4 + gamma 5 versions (the stand-in counts a source's name's letters).
    expect(run.output).toEqual({ published: true, versions: 14 });
    const scanInputs = run.taskCalls.filter((call) => call.resource === SCAN).map((c) => c.input);
    expect(scanInputs).toEqual(
      expect.arrayContaining(
        sources.map((source, index) => ({ source, index, execution: "daily-2026-12-01" })),
      ),
    );
    expect(callsPerSource(run.taskCalls)).toEqual({ alpha: 1, beta: 1, gamma: 1 });
    expect(statesEntered(run)).toEqual([
      "ScanSources",
      ...sources.map(() => "ScanSource"),
      "Publish",
    ]);
  });

  it("retries only the source whose scan fails with the transient error, without waiting", async () => {
    let betaFailures = 0;
    const started = performance.now();
    const run = await runStateMachine(
      definition,
      { sources },
      {
        resolveTask: async (resource, input) => {
          if (resource !== SCAN) return publish(input);
          const scan = scanOf(input);
          if (scan.source === "beta" && betaFailures < 2) {
            betaFailures += 1;
            throw new SourceTransientError(`beta answered 503 (${betaFailures})`);
          }
          return scan;
        },
      },
    );
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toEqual({ published: true, versions: 14 });
    expect(callsPerSource(run.taskCalls)).toEqual({ alpha: 1, beta: 3, gamma: 1 });
    expect(run.taskCalls.filter((call) => call.error !== undefined).map((c) => c.error)).toEqual([
      "SourceTransientError",
      "SourceTransientError",
    ]);
    // Step Functions would wait 30 s (IntervalSeconds) then 60 s (× BackoffRate 2); here, none.
    expect(run.retries).toEqual([
      expect.objectContaining({
        state: "ScanSource",
        index: 1,
        attempt: 1,
        definitionDelaySeconds: 30,
      }),
      expect.objectContaining({
        state: "ScanSource",
        index: 1,
        attempt: 2,
        definitionDelaySeconds: 60,
      }),
    ]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("fails the execution with a permanent error's name, through the Catch and the Fail state", async () => {
    const run = await runStateMachine(
      definition,
      { sources },
      {
        resolveTask: async (resource, input) => {
          const scan = scanOf(input);
          if (resource === SCAN && scan.source === "gamma") {
            throw new SourcePermanentError("gamma: 403 on ListTrainingJobs");
          }
          return resource === SCAN ? scan : publish(input);
        },
      },
    );
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("SourcePermanentError");
    // The Cause is the function's error document, as Step Functions reports a Lambda error.
    expect(JSON.parse(run.cause ?? "")).toEqual({
      errorType: "SourcePermanentError",
      errorMessage: "gamma: 403 on ListTrainingJobs",
    });
    expect(callsPerSource(run.taskCalls).gamma).toBe(1);
    expect(statesEntered(run)).toContain("SourceFailed");
    expect(statesEntered(run)).not.toContain("Publish");
  });

  it("keeps to the Map's MaxConcurrency", async () => {
    let inFlight = 0;
    let peak = 0;
    const run = await runStateMachine(
      definition,
      { sources: ["a", "b", "c", "d", "e"] },
      {
        resolveTask: async (resource, input) => {
          if (resource !== SCAN) return publish(input);
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 50));
          inFlight -= 1;
          return scanOf(input);
        },
      },
    );
    expect(run.status).toBe("SUCCEEDED");
    expect(peak).toBe(2);
  });

  it("reports an invalid definition with readable errors, and refuses to run it", async () => {
    const invalid = structuredClone(definition);
    Object.assign(invalid.States.Publish, { End: undefined, Next: "Nowhere" });
    const result = validateDefinition(invalid);
    expect(result.valid).toBe(false);
    expect(result.errors).toContain(
      "MISSING_TRANSITION_TARGET: Missing 'StartAt'|'Next'|'Default' target: Nowhere",
    );
    await expect(
      runStateMachine(invalid, { sources }, { resolveTask: async () => null }),
    ).rejects.toThrow(StateMachineDefinitionError);
  });

  it("answers the Tasks with a function's own process on Node 22, its errors matched by errorType", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sfn-lambda-"));
    // A function as Lambda runs it (lambda-runtime.ts): beta's first two scans fail.
    await writeFile(
      join(dir, "index.mjs"),
      `class SourceTransientError extends Error { name = "SourceTransientError"; }
       const calls = new Map();
       export const handler = async (event) => {
         const n = (calls.get(event.source) ?? 0) + 1;
         calls.set(event.source, n);
         if (event.source === "beta" && n <= 2) throw new SourceTransientError("beta answered 503");
         return { source: event.source, versions: event.source.length, node: process.version };
       };`,
    );
    const env = lambdaVariables({
      functionName: "scan-source",
      handler: "index.handler",
      taskRoot: dir,
      region: "eu-central-1",
      memoryMb: 512,
    });
    const scan = await startLambdaProcess("scan-source", env);
    try {
      const run = await runStateMachine(
        definition,
        { sources },
        {
          resolveTask: async (resource, input, state) =>
            resource === SCAN
              ? lambdaTasks({ [SCAN]: scan })(resource, input, state)
              : publish(input),
        },
      );
      expect(run.status).toBe("SUCCEEDED");
      expect(run.output).toEqual({ published: true, versions: 14 });
      expect(callsPerSource(run.taskCalls)).toEqual({ alpha: 1, beta: 3, gamma: 1 });
      const scans = run.events.flatMap((event) =>
        event.type === "StateExited" && event.state?.name === "ScanSource"
          ? [event.state.output]
          : [],
      );
      expect(scans).toHaveLength(3);
      for (const output of scans) expect(output).toMatchObject({ node: node22Version() });
    } finally {
      await scan.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
