import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadReportConfig } from "../../src/app/config.js";
import { upstreamOf } from "../helpers/one-source.js";

/**
 * The README's configuration table against the code: every default it states is what the
 * configuration actually gives when the variable is unset, every variable it lists is read by
 * src/app/config.ts, and every variable config.ts and env.ts read is in the table.
 */

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const CONFIG_SOURCE = ["config.ts", "env.ts"]
  .map((f) => readFileSync(new URL(`../../src/app/${f}`, import.meta.url), "utf8"))
  .join("\n");

/** `variable` cell → `default` cell, for each row of the table under "## Configuration". */
function table(): Map<string, string> {
  const section = README.slice(README.indexOf("## Configuration"));
  const rows = section
    .slice(0, section.indexOf("\n## ", 3))
    .split("\n")
    .filter((line) => line.startsWith("| `"));
  const out = new Map<string, string>();
  for (const row of rows) {
    const cells = row.split("|").map((c) => c.trim());
    const [, variables = "", , , fallback = ""] = cells;
    for (const name of variables.matchAll(/`([A-Z0-9_]+)`/g)) out.set(name[1] as string, fallback);
  }
  return out;
}

describe("the README's configuration table", () => {
  const rows = table();

  it("states the defaults the code uses", () => {
    const config = loadReportConfig({
      MODELARTS_ENDPOINT: "https://modelarts.example.com",
      MODELARTS_PROJECT_ID: "p",
      MODELARTS_TOKEN: "t",
    });
    const upstream = upstreamOf(config);
    if (upstream === null) throw new Error("expected an upstream");
    const actual: Record<string, string> = {
      REPORT_STORAGE: `\`${config.storage}\``,
      REPORT_TIMEZONE: `\`${config.timeZone}\``,
      FAILURE_STATUSES: `\`${config.failureStatuses.join(",")}\``,
      MODELARTS_PAGE_SIZE: String(upstream.pageSize),
      MODELARTS_TIMEOUT_MS: String(upstream.timeoutMs),
      MODELARTS_MAX_ATTEMPTS: String(upstream.maxAttempts),
      MODELARTS_CONCURRENCY: String(upstream.concurrency),
    };
    for (const [name, value] of Object.entries(actual)) {
      expect(rows.get(name), name).toBe(value);
    }
  });

  it("lists every variable the configuration reads, and only those", () => {
    const read = new Set(
      [...CONFIG_SOURCE.matchAll(/(?:\(env, |\bname\()"([A-Z0-9_]+)"/g)].map((m) => m[1]),
    );
    // Auth variables have their own section of the README; the table names the rest.
    const auth = /^(MODELARTS_(TOKEN|AK|SK|SECURITY_TOKEN)|IAM_\w+)$/;
    // Lambda's and serverless-offline's own, read to tell where the code runs.
    const platform = new Set(["AWS_LAMBDA_FUNCTION_NAME", "IS_OFFLINE"]);
    const expected = [...read].filter((n) => n !== undefined && !auth.test(n) && !platform.has(n));
    expect([...rows.keys()].sort()).toEqual(expected.sort());
    for (const name of [...read].filter((n) => n !== undefined && auth.test(n))) {
      expect(README, name).toMatch(new RegExp(`\`${name}[\`=]`));
    }
  });
});
