import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadReportConfig } from "../../src/app/config.js";
import { runConfiguredReport } from "../../src/app/run.js";
import { type RunPlan, runPlan } from "../../src/app/steps.js";
import { type ScanOutput, scanOutput } from "../../src/handlers/step-payloads.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { type Handlers, loadHandlers } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";

/**
 * The run as three steps (issue 21), each step's handler called as Lambda would call it:
 * Plan, one ScanSource per planned source, Publish. The result is the bytes the command line
 * writes for the same sources at the same instant; a failing source fails its step with the
 * error name the state machine's Retry and Catch match; a partial that is not what its scan
 * wrote stops Publish before anything is written.
 */

const NOW = Date.now();
const YESTERDAY = new Date(NOW - 86_400_000).toISOString().slice(0, 10);
const VISION = "5f3c9a1e7b2d4c6e8a0b1c2d3e4f5a6b";
const context = {} as Context;
let research: Simulator;
let eu: Simulator;
let dir: string;
const lines: string[] = [];

beforeAll(async () => {
  const workload = (n: number, seed: number, workspace: string) =>
    generateWorkload({ versions: n, seed, now: NOW, days: 3 }).map((v) => ({
      ...v,
      workspace_id: workspace,
    }));
  research = await startSimulator({
    projectId: "pr",
    versions: [...workload(240, 41, "0"), ...workload(160, 42, VISION)],
    auth: { tokens: ["tr"] },
    workspaces: [
      { id: "0", name: "default" },
      { id: VISION, name: "Vision Team" },
    ],
    pageCap: 50,
  });
  eu = await startSimulator({
    projectId: "pe",
    versions: workload(130, 43, "0"),
    auth: { tokens: ["te"] },
    pageCap: 50,
  });
  dir = await mkdtemp(join(tmpdir(), "steps-"));
  captureOutput(lines);
});
afterAll(async () => {
  await research.close();
  await eu.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const SOURCES = () =>
  JSON.stringify([
    { name: "research", endpoint: research.url, project_id: "pr", workspace_id: "*" },
    { name: "eu-prod", endpoint: eu.url, project_id: "pe", credentials: "env:EU" },
  ]);

function env(root: string) {
  return {
    REPORT_STORAGE: `file://${root}`,
    REPORT_TIMEZONE: "UTC",
    REPORT_SOURCES: SOURCES(),
    MODELARTS_TOKEN: "tr",
    EU_MODELARTS_TOKEN: "te",
    MODELARTS_PAGE_SIZE: "50",
    MODELARTS_MAX_ATTEMPTS: "2",
    AWS_LAMBDA_FUNCTION_NAME: undefined,
    REPORT_FUNCTION_NAME: undefined,
  };
}

/** Plan, then each source's scan (as the Map would), then Publish. */
async function runSteps(h: Handlers, runId: string) {
  const plan = runPlan.parse(
    await h.steps.plan({ event: { dates: [YESTERDAY] }, run_id: runId }, context),
  );
  const scans: ScanOutput[] = [];
  for (const source of plan.sources) {
    scans.push(scanOutput.parse(await h.steps.scanSource({ plan, index: source.index }, context)));
  }
  return { plan, scans };
}

async function files(root: string, date: string): Promise<Record<string, string>> {
  const folder = join(root, "daily", date);
  const names = await readdir(folder);
  return Object.fromEntries(
    await Promise.all(names.map(async (n) => [n, await readFile(join(folder, n), "utf8")])),
  );
}

describe("the run as Plan, ScanSource and Publish", () => {
  it("publishes the bytes the command line writes for the same sources at the same instant", async () => {
    const root = join(dir, "steps");
    const h = await loadHandlers(env(root));
    const { plan, scans } = await runSteps(h, "run-1");
    expect(plan.sources.map((s) => [s.name, s.entry, s.workspace_id])).toEqual([
      ["research.default", "research", "0"],
      ["research.vision-team", "research", VISION],
      ["eu-prod", "eu-prod", null],
    ]);
    // The state carries where each partial is, never the versions.
    for (const s of scans) {
      expect(s.partial.key).toMatch(/^runs\/run-1\/\d-[0-9a-f]{16}\.json\.gz$/);
      expect(JSON.stringify(s).length).toBeLessThan(1000);
      expect(s.complete).toBe(true);
    }
    const outcome = await h.steps.publish({ ...plan, scans }, context);
    expect(outcome).toMatchObject({
      dates: [YESTERDAY],
      latest: YESTERDAY,
      sources: ["research.default", "research.vision-team", "eu-prod"],
      versionsScanned: 240 + 160 + 130,
    });
    // The partials are gone once published; the run's mark that it published stays (for a
    // retried Publish) until the lifecycle rule takes it.
    expect(await readdir(join(root, "runs", "run-1")).catch(() => [])).toEqual(["published.json"]);

    // The command line, in one process, for the same sources as of the plan's instant.
    const cliRoot = join(dir, "cli");
    const config = loadReportConfig({ ...env(cliRoot), REPORT_STORAGE: `file://${cliRoot}` });
    await runConfiguredReport(config, { dates: [YESTERDAY] }, { now: plan.now });
    const [stepped, cli] = [await files(root, YESTERDAY), await files(cliRoot, YESTERDAY)];
    expect(Object.keys(stepped).sort()).toEqual([
      "jobs.csv",
      "manifest.json",
      "report.json",
      "sources.csv",
      "usage.csv",
    ]);
    expect(stepped).toEqual(cli);
  });

  it("fails a source's scan with the name the Retry matches, or the one that fails the run", async () => {
    const h = await loadHandlers(env(join(dir, "failing")));
    const plan: RunPlan = runPlan.parse(
      await h.steps.plan({ event: { dates: [YESTERDAY] }, run_id: "run-2" }, context),
    );
    const index = plan.sources.findIndex((s) => s.name === "eu-prod");
    eu.queueFaults({ kind: "status", status: 503 }, { kind: "status", status: 503 });
    await expect(h.steps.scanSource({ plan, index }, context)).rejects.toMatchObject({
      name: "StepTransientError",
      message: expect.stringMatching(/^eu-prod: .*HTTP 503/),
    });
    const refused = await loadHandlers({
      ...env(join(dir, "failing")),
      EU_MODELARTS_TOKEN: "wrong",
    });
    await expect(refused.steps.scanSource({ plan, index }, context)).rejects.toMatchObject({
      name: "StepFailedError",
      message: expect.stringMatching(/^eu-prod: .*HTTP 401/),
    });
    expect(lines.join("\n")).not.toContain("wrong");
  });

  it("publishes nothing when a partial is not the file its scan wrote", async () => {
    const root = join(dir, "tampered");
    const h = await loadHandlers(env(root));
    const { plan, scans } = await runSteps(h, "run-3");
    const victim = scans[1] as ScanOutput;
    await writeFile(join(root, victim.partial.key), "not the partial");
    await expect(h.steps.publish({ ...plan, scans }, context)).rejects.toMatchObject({
      name: "StepFailedError",
      message: expect.stringContaining("is not the file its scan wrote"),
    });
    expect(await readdir(root)).not.toContain("daily");
    expect(await readdir(root)).not.toContain("latest.json");
  });

  it("refuses a plan that names a source no longer configured", async () => {
    const h = await loadHandlers(env(join(dir, "gone")));
    const plan = runPlan.parse(
      await h.steps.plan({ event: { dates: [YESTERDAY] }, run_id: "run-4" }, context),
    );
    const renamed = { ...plan, sources: plan.sources.map((s) => ({ ...s, entry: "elsewhere" })) };
    await expect(h.steps.scanSource({ plan: renamed, index: 0 }, context)).rejects.toMatchObject({
      name: "StepFailedError",
      message: expect.stringContaining('is no longer configured (entry "elsewhere")'),
    });
  });
});
