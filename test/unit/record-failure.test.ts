import { describe, expect, it } from "vitest";
import { causeMessage } from "../../src/handlers/record-failure.js";

/**
 * The message a run_failed alert carries (report.md §11): what the failed step said, as the
 * state machine hands it to RecordFailure (`$.Cause`), in one line, without a stack trace or
 * anything that looks like a secret.
 */

describe("causeMessage", () => {
  it("takes a Lambda error document's errorMessage, never its trace, in one line", () => {
    // As Step Functions gives a Task's Lambda error: the runtime's JSON, its trace an array.
    const cause = JSON.stringify({
      errorType: "StepFailedError",
      errorMessage: "the run could not be published:\n  REPORT_BUDGETS entry 2:\tlimit must be > 0",
      trace: [
        "StepFailedError: the run could not be published",
        "    at publish (file:///var/task/src/handlers/publish.mjs:212:11)",
        "    at async runRequest (file:///var/task/node_modules/@middy/core/index.js:156:21)",
      ],
    });
    expect(causeMessage(cause)).toBe(
      "the run could not be published: REPORT_BUDGETS entry 2: limit must be > 0",
    );
  });

  it("takes a plain Step Functions cause as given, on one line", () => {
    const cause =
      "An error occurred while executing the state 'ScanSources' (entered at the event id #7).\n" +
      "The JSONPath '$.sources' specified for the field 'ItemsPath' could not be found in the input '{}'";
    expect(causeMessage(cause)).toBe(cause.replace("\n", " "));
    expect(causeMessage("  Task timed out after 900.00 seconds  ")).toBe(
      "Task timed out after 900.00 seconds",
    );
    // JSON that is no Lambda error document is a cause like any other.
    expect(causeMessage('"States.Timeout"')).toBe('"States.Timeout"');
    expect(causeMessage("null")).toBe("null");
  });

  it("redacts what looks like a secret, in a plain cause or in an errorMessage", () => {
    const plain = causeMessage(
      "GET https://modelarts.example.com/v2/p/jobs?token=abc123SECRET&limit=50 failed: 500",
    );
    expect(plain).not.toContain("abc123SECRET");
    expect(plain).toContain("token=[redacted]");
    expect(plain).toContain("limit=50");
    const lambda = causeMessage(
      JSON.stringify({
        errorType: "StepTransientError",
        errorMessage: "ModelArts refused: token=abc123SECRET X-Auth-Token: xyzSECRET",
        trace: [],
      }),
    );
    expect(lambda).not.toMatch(/SECRET/);
    expect(lambda).toContain("token=[redacted]");
  });

  it("is empty without a cause", () => {
    expect(causeMessage(undefined)).toBe("");
    expect(causeMessage("")).toBe("");
  });
});
