import { describe, expect, it } from "vitest";
import { matchesPattern } from "../deployed/stack.js";

/**
 * The deployed-shape harness's EventBridge matching (test/deployed/stack.ts), on the rules of
 * EventBridge's documented pattern syntax it claims to judge: every key of the pattern must
 * match, a list is the values allowed (exact), an object goes one level down; a key missing
 * from the event does not match; any other operator is refused rather than guessed.
 */

const EVENT = {
  source: "aws.states",
  "detail-type": "Step Functions Execution Status Change",
  detail: { status: "FAILED", stateMachineArn: "arn:aws:states:eu-central-1:1:stateMachine:m" },
};
const PATTERN = {
  source: ["aws.states"],
  "detail-type": ["Step Functions Execution Status Change"],
  detail: { status: ["FAILED", "TIMED_OUT"], stateMachineArn: [EVENT.detail.stateMachineArn] },
};

describe("matchesPattern", () => {
  it("matches when every key's value is one of those listed, nested objects too", () => {
    expect(matchesPattern(PATTERN, EVENT)).toBe(true);
    expect(
      matchesPattern(PATTERN, { ...EVENT, detail: { ...EVENT.detail, status: "TIMED_OUT" } }),
    ).toBe(true);
  });

  it("does not match another value, another machine, or an event without the key", () => {
    for (const status of ["SUCCEEDED", "ABORTED", "failed"]) {
      expect(
        matchesPattern(PATTERN, { ...EVENT, detail: { ...EVENT.detail, status } }),
        status,
      ).toBe(false);
    }
    const other = { ...EVENT, detail: { ...EVENT.detail, stateMachineArn: "arn:other" } };
    expect(matchesPattern(PATTERN, other)).toBe(false);
    expect(matchesPattern(PATTERN, { source: "aws.states" })).toBe(false);
    expect(matchesPattern(PATTERN, { ...EVENT, detail: null })).toBe(false);
  });

  it("refuses what it cannot judge: content filters, a pattern that is no object", () => {
    expect(() => matchesPattern({ detail: { status: [{ prefix: "F" }] } }, EVENT)).toThrow(
      "an operator this harness does not judge",
    );
    expect(() => matchesPattern(["aws.states"], EVENT)).toThrow("not an event pattern");
  });
});
