import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PENDING_TTL_MS } from "../../src/storage/regenerations.js";
import {
  PACKAGE_TIMEOUT_MS,
  printService,
  type ResolvedService,
} from "../helpers/serverless-package.js";

/**
 * `npm run dev` (serverless-offline, stage `local`) hands each handler only the environment
 * serverless.yml maps for it, not the shell's. The README's configuration table says which
 * function reads each setting; here serverless.yml is resolved for the local stage with every
 * such setting set in the shell to a value of its own, and each must reach every function
 * that reads it, so `npm run report` and the dev server read the same shell alike.
 */

/** Values a setting could not get by accident; each must arrive as it was set. */
const SHELL: Record<string, string> = {
  REPORT_STORAGE: "file:///tmp/local-stage-marker",
  REPORT_TIMEZONE: "Pacific/Chatham",
  FAILURE_STATUSES: "3,11,17",
  MODELARTS_ENDPOINT: "http://127.0.0.1:4999",
  MODELARTS_PROJECT_ID: "project-marker",
  MODELARTS_WORKSPACE_ID: "workspace-marker",
  MODELARTS_POOL_ID: "pool-marker",
  MODELARTS_PAGE_SIZE: "77",
  MODELARTS_TIMEOUT_MS: "12345",
  MODELARTS_MAX_ATTEMPTS: "4",
  MODELARTS_CONCURRENCY: "6",
  PRICE_TABLE: "/tmp/prices-marker.json",
  REPORT_SOURCES: "file:///tmp/sources-marker.json",
  REPORT_MAX_IN_FLIGHT: "9",
  REPORT_BUDGETS: "file:///tmp/budgets-marker.json",
  REPORT_API_TOKEN: "token-marker",
  REPORT_LINK_KEY: "link-key-marker-0123456789abcdefghijkl",
};

/** Settings read on deployed stages only: the template sets them; locally they stay unset. */
const DEPLOYED_ONLY = new Set([
  "MODELARTS_CREDENTIALS_SECRET",
  "REPORT_API_TOKEN_SECRET",
  "REPORT_LINK_KEY_SECRET",
  "REPORT_STATE_MACHINE_ARN",
]);

/** `variable` → its "read by" cell, for each row of the README's configuration table. */
async function readBy(): Promise<Map<string, string>> {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration"));
  const out = new Map<string, string>();
  for (const row of section.slice(0, section.indexOf("\n## ", 3)).split("\n")) {
    if (!row.startsWith("| `")) continue;
    const [, variables = "", by = ""] = row.split("|").map((c) => c.trim());
    for (const name of variables.matchAll(/`([A-Z0-9_]+)`/g)) out.set(name[1] as string, by);
  }
  return out;
}

let dir: string;
let local: ResolvedService;
let table: Map<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-stage-"));
  [local, table] = await Promise.all([printService(dir, "local", SHELL), readBy()]);
}, PACKAGE_TIMEOUT_MS);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What a function of the local stage gets: the provider's environment, then its own. */
function environmentOf(name: string): Record<string, unknown> {
  const fn = local.functions[name];
  if (fn === undefined) throw new Error(`no function ${name}`);
  return { ...local.provider.environment, ...fn.environment };
}

describe("the local stage (npm run dev)", () => {
  it("hands every function each setting the README says all functions read, from the shell", () => {
    const all = [...table].filter(([, by]) => by === "all").map(([name]) => name);
    expect(all).toEqual(expect.arrayContaining(["REPORT_TIMEZONE", "FAILURE_STATUSES"]));
    for (const fn of Object.keys(local.functions)) {
      const env = environmentOf(fn);
      for (const name of all) {
        expect(SHELL[name], `a shell value for ${name}`).toBeDefined();
        expect(env[name], `${fn} ${name}`).toBe(SHELL[name]);
      }
    }
  });

  it("hands POST /reports, which runs the job in-process, every report setting of the shell", () => {
    const post = environmentOf("postReports");
    expect(local.functions.postReports?.handler).toBe("src/handlers/post-reports-local.handler");
    for (const [name, by] of table) {
      if (DEPLOYED_ONLY.has(name) || !["all", "report", "API"].includes(by)) continue;
      expect(post[name], name).toBe(SHELL[name]);
    }
  });

  it("hands the API functions the API settings of the shell", () => {
    // The run's steps (plan, scanSource, publish) and recordFailure are the state machine's,
    // not the API's.
    const steps = new Set(["plan", "scanSource", "publish", "recordFailure"]);
    for (const fn of Object.keys(local.functions).filter((f) => !steps.has(f))) {
      const env = environmentOf(fn);
      for (const [name, by] of table) {
        if (DEPLOYED_ONLY.has(name) || by !== "API") continue;
        expect(env[name], `${fn} ${name}`).toBe(SHELL[name]);
      }
    }
  });

  it("keeps an idle function's worker as long as a regeneration may run in its background", () => {
    const offline = local.custom?.["serverless-offline"] as { terminateIdleLambdaTime?: number };
    expect((offline.terminateIdleLambdaTime ?? 60) * 1000).toBeGreaterThanOrEqual(PENDING_TTL_MS);
  });
});
