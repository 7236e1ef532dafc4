import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { apiGatewayEvent, lambdaContext } from "../helpers/apigw.js";

// The deployed POST /reports module starts an execution of the state machine and has no run of its
// own: without REPORT_STATE_MACHINE_ARN it must say so (the stage's own wiring, post-reports-local,
// is what runs a job in-process), and leave nothing claimed behind. The template always sets
// the name (template.test.ts); this is the guard for a hand-edited one.

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "post-handover-"));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

it("answers 500 not_configured without a state machine to hand over to, and frees the dates", async () => {
  const env = {
    REPORT_STORAGE: `file://${dir}`,
    REPORT_TIMEZONE: "UTC",
    REPORT_API_TOKEN: "handover-test-token-0123456789",
    REPORT_LINK_KEY: "handover-test-link-key-0123456789abcdef",
    AWS_LAMBDA_FUNCTION_NAME: undefined,
    REPORT_STATE_MACHINE_ARN: undefined,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  const { handler } = await import("../../src/handlers/post-reports.js");
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const event = apiGatewayEvent({
    method: "POST",
    url: "/reports",
    headers: {
      authorization: `Bearer ${env.REPORT_API_TOKEN}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ date: yesterday }),
  });
  const result = await handler(event, lambdaContext());
  expect(result.statusCode).toBe(500);
  expect(JSON.parse(result.body ?? "")).toMatchObject({ error: { code: "not_configured" } });
  // The claim was taken and given back: a later POST is not refused as pending.
  const queue = JSON.parse(await readFile(join(dir, "regenerations.json"), "utf8"));
  expect(queue.pending).toEqual([]);
  expect(await readFile(join(dir, "latest.json"), "utf8").catch(() => "none")).toBe("none");
});
