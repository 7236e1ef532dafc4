import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_LINK_SECONDS, MIN_LINK_SECONDS } from "../../src/api/links.js";
import { runStartCli } from "../../src/cli/start.js";
import { runVerifyCli } from "../../src/cli/verify.js";
import { sink } from "../helpers/sink.js";

/**
 * The README's claims that a test can check: its samples come from one `npm start` run (the
 * one of 2026-11-28 00:30 UTC), and the facts it states about the commands hold. (Before: the
 * quick start's table and the usage.csv sample came from two runs and disagreed.)
 */

const README = await readFile(new URL("../../README.md", import.meta.url), "utf8");
const RUN_AT = Date.UTC(2026, 10, 28, 0, 30);

/** The fenced block that starts with `first` (its lines, without the fences). */
function block(first: string): string[] {
  const at = README.indexOf(`\n${first}`);
  if (at < 0) throw new Error(`README has no block starting with ${first}`);
  const end = README.indexOf("\n```", at + 1);
  return README.slice(at + 1, end).split("\n");
}

let cwd: string;
let stdout: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "readme-"));
  const out = sink();
  const code = await runStartCli([], {
    stdout: out,
    stderr: sink(),
    env: {},
    now: () => RUN_AT,
    cwd,
  });
  expect(code).toBe(0);
  stdout = out.text;
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

describe("the README", () => {
  it("shows the quick start's output as npm start prints it", () => {
    const sample = block("wrote file://./reports/daily/2026-11-27/report.json");
    expect(sample.length).toBeGreaterThan(8);
    expect(stdout.split("\n").slice(0, sample.length)).toEqual(sample);
  });

  it("shows usage.csv rows from the same run as the quick start", async () => {
    const sample = block("report_date,flavor_code,pool_id,versions_active");
    const csv = await readFile(join(cwd, "reports/daily/2026-11-27/usage.csv"), "utf8");
    expect(csv.split("\r\n").slice(0, sample.length)).toEqual(sample);
    // The first row's flavor ran in one pool only: the quick start's table shows the same
    // GPU-hours for it (the two samples disagreed when they came from two runs).
    const [, flavor, , active, , , gpus, , peak, , gpuHours] = (sample[1] ?? "").split(",");
    const row = stdout.split("\n").find((l) => l.startsWith(`${flavor} `));
    expect(row?.split(/\s+/)).toEqual([flavor, active, gpus, peak, gpuHours, "0"]);
  });

  it("quotes every --path that holds a '?', so a shell does not glob it", () => {
    const unquoted = README.split("\n").filter((l) => /--path [^'"\s]*\?/.test(l));
    expect(unquoted).toEqual([]);
    expect(stdout).not.toMatch(/--path [^'"\s]*\?/);
  });

  it("says what verify does without a date, and it does", async () => {
    expect(README).toMatch(/Without `--date` or `--month` it exits 2/);
    expect(
      await runVerifyCli([], { stdout: sink(), stderr: sink(), env: {}, now: () => RUN_AT, cwd }),
    ).toBe(2);
  });

  it("states the link lifetimes the code enforces", () => {
    expect(MIN_LINK_SECONDS).toBe(60);
    expect(MAX_LINK_SECONDS).toBe(30 * 86_400);
    expect(README).toContain("at least 60 seconds and at most 30 days");
  });

  it("says npm start follows REPORT_TIMEZONE, and it does", async () => {
    expect(README).toMatch(/`REPORT_TIMEZONE` from your shell, `UTC` when unset/);
    const out = sink();
    const code = await runStartCli([], {
      stdout: out,
      stderr: sink(),
      env: { REPORT_TIMEZONE: "Pacific/Kiritimati" },
      now: () => RUN_AT,
      cwd,
    });
    expect(code).toBe(0);
    // 00:30 UTC on the 28th is 14:30 on the 28th in Kiritimati (UTC+14): yesterday is the 27th
    // there too, but in the zone's own window.
    expect(out.text).toContain("2026-11-27 (Pacific/Kiritimati)");
  });
});
