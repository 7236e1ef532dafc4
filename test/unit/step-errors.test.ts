import { describe, expect, it } from "vitest";
import { stepError } from "../../src/handlers/step-errors.js";
import {
  ConfigError,
  IncompleteScanError,
  StorageError,
  UpstreamError,
} from "../../src/shared/errors.js";
import { RunInProgressError } from "../../src/storage/run-lock.js";

/**
 * The name a step's error carries is what the state machine's Retry matches: transient ones
 * are retried for that source alone, the rest fail the execution (issue 21).
 */
describe("a step's error", () => {
  it.each([
    [
      "a retryable upstream failure",
      new UpstreamError("503", { retryable: true }),
      "StepTransientError",
    ],
    ["a listing that moved too much", new IncompleteScanError("moved"), "StepTransientError"],
    ["a storage hiccup", new StorageError("put failed"), "StepTransientError"],
    ["the run lock held by another run", new RunInProgressError("held"), "StepTransientError"],
    ["a refused request", new UpstreamError("403", { retryable: false }), "StepFailedError"],
    ["a setting", new ConfigError("REPORT_SOURCES entry 1: bad"), "StepFailedError"],
    ["anything else", new TypeError("x is undefined"), "StepFailedError"],
  ])("is named for %s", (_what, error, name) => {
    const wrapped = stepError("eu-prod", error);
    expect(wrapped.name).toBe(name);
    expect(wrapped.message).toBe(`eu-prod: ${error.message}`);
    expect(wrapped.cause).toBe(error);
  });
});
