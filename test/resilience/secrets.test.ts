import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runPlan } from "../../src/app/steps.js";
import { runReportCli } from "../../src/cli/report.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { loadHandlers } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";
import { cliIo } from "../helpers/sink.js";

/**
 * Secrets never reach logs, errors or files: the whole job runs with recognisable fake
 * secrets, through retries and failures, and every line and file is searched for them.
 */

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const SECRETS = {
  token: "TOKEN-c0ffee-SHOULD-NOT-LEAK",
  sk: "SK-deadbeef-SHOULD-NOT-LEAK",
  password: "PASSWORD-f00d-SHOULD-NOT-LEAK",
  securityToken: "STS-abad1dea-SHOULD-NOT-LEAK",
};
const LEAK = /SHOULD-NOT-LEAK|c0ffee|deadbeef|f00d|abad1dea/;

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({
    projectId: "p",
    versions: generateWorkload({ versions: 300, seed: 2, now: NOW }),
    auth: {
      tokens: [SECRETS.token],
      aksk: [{ ak: "AKVISIBLE", sk: SECRETS.sk }],
      iamUsers: [{ username: "alice", password: SECRETS.password, domain: "acme" }],
    },
    pageCap: 100,
  });
  dir = await mkdtemp(join(tmpdir(), "secrets-"));
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

async function allFiles(root: string): Promise<string> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(
    entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), "utf8")),
  );
  return texts.join("\n");
}

async function runCli(env: Record<string, string>, argv: string[] = ["--date", "2026-11-27"]) {
  const io = cliIo(env, NOW, dir);
  const code = await runReportCli(argv, io);
  return { code, output: io.stdout.text + io.stderr.text };
}

const base = () => ({
  MODELARTS_ENDPOINT: sim.url,
  MODELARTS_PROJECT_ID: "p",
  MODELARTS_MAX_ATTEMPTS: "3",
});

describe("no secret in any output or file", () => {
  it.each([
    ["a ready token", { MODELARTS_TOKEN: SECRETS.token }],
    [
      "AK/SK with a security token",
      {
        MODELARTS_AK: "AKVISIBLE",
        MODELARTS_SK: SECRETS.sk,
        MODELARTS_SECURITY_TOKEN: SECRETS.securityToken,
      },
    ],
    [
      "an IAM password",
      {
        IAM_ENDPOINT: "SIMULATOR",
        IAM_USERNAME: "alice",
        IAM_PASSWORD: SECRETS.password,
        IAM_DOMAIN: "acme",
      },
    ],
  ])("with %s, through retries and a failed run", async (_name, auth) => {
    const storage = `file://./out-${Math.random().toString(36).slice(2)}`;
    const withSim = Object.fromEntries(
      Object.entries(auth).map(([k, v]) => [k, v === "SIMULATOR" ? sim.url : v]),
    );
    const env = { ...base(), ...withSim, REPORT_STORAGE: storage };
    sim.queueFaults(
      { kind: "status", status: 503 },
      { kind: "not-success", errorCode: "ModelArts.0105" },
    );
    const ok = await runCli(env);
    sim.queueFaults(...Array.from({ length: 3 }, () => ({ kind: "status" as const, status: 502 })));
    const failed = await runCli(env);
    expect(ok.code).toBe(0);
    expect(failed.code).toBe(1);
    expect(ok.output + failed.output).not.toMatch(LEAK);
    expect(await allFiles(dir)).not.toMatch(LEAK);
  });

  it("when the credentials are wrong", async () => {
    const wrong = [
      { MODELARTS_TOKEN: `${SECRETS.token}-x` },
      { MODELARTS_AK: "AKVISIBLE", MODELARTS_SK: `${SECRETS.sk}-x` },
      {
        IAM_ENDPOINT: sim.url,
        IAM_USERNAME: "alice",
        IAM_PASSWORD: `${SECRETS.password}-x`,
        IAM_DOMAIN: "acme",
      },
    ];
    for (const auth of wrong) {
      const run = await runCli({ ...base(), ...auth, REPORT_STORAGE: "file://./wrong" });
      expect(run.code).toBe(1);
      expect(run.output).toMatch(/HTTP 40[13]/);
      expect(run.output).not.toMatch(LEAK);
    }
  });

  it("when the configuration is rejected", async () => {
    const run = await runCli({
      ...base(),
      MODELARTS_TOKEN: SECRETS.token,
      MODELARTS_SK: SECRETS.sk,
    });
    expect(run.code).toBe(2);
    expect(run.output).not.toMatch(LEAK);
  });

  it("in the run's steps' structured logs (Plan, ScanSource, Publish)", async () => {
    const lines: string[] = [];
    captureOutput(lines);
    const { steps } = await loadHandlers({
      MODELARTS_ENDPOINT: sim.url,
      MODELARTS_PROJECT_ID: "p",
      MODELARTS_TOKEN: SECRETS.token,
      MODELARTS_MAX_ATTEMPTS: "2",
      REPORT_STORAGE: `file://${join(dir, "lambda")}`,
    });
    const context = { functionName: "step", awsRequestId: "r1" } as never;
    /** Plan and the one source's scan of `date`, as the state machine would run them. */
    const planAndScan = async (date: string, runId: string) => {
      const plan = runPlan.parse(
        await steps.plan({ event: { dates: [date] }, run_id: runId }, context),
      );
      return { plan, scan: await steps.scanSource({ plan, index: 0 }, context) };
    };
    sim.queueFaults({ kind: "status", status: 503 });
    const { plan, scan } = await planAndScan("2026-11-27", "run-ok");
    const outcome = await steps.publish({ ...plan, scans: [scan] }, context);
    expect(outcome).toMatchObject({ latest: "2026-11-27" });
    sim.queueFaults(...Array.from({ length: 2 }, () => ({ kind: "status" as const, status: 500 })));
    const failed = await planAndScan("2026-11-26", "run-failed").catch((e: unknown) => e);
    expect(failed).toMatchObject({ name: "StepTransientError", message: /HTTP 500/ });
    vi.unstubAllEnvs();
    expect(String((failed as Error).message)).not.toMatch(LEAK);
    const log = lines.join("");
    expect(log).toMatch(/report run finished/);
    expect(log).not.toMatch(LEAK);
    expect(await allFiles(join(dir, "lambda"))).not.toMatch(LEAK);
  });
});
