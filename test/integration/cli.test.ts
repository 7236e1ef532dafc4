import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliIo, exitCodeOf } from "../../src/cli/main.js";
import { parseReportArgs, runReportCli } from "../../src/cli/report.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";

const run = promisify(execFile);
const NOW = Date.UTC(2026, 10, 28, 0, 30);

class Capture extends Writable {
  text = "";
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let dir: string;
let sim: Simulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-"));
  sim = await startSimulator({
    projectId: "p",
    versions: generateWorkload({ versions: 400, seed: 5, now: NOW }),
    auth: { tokens: ["cli-token-SECRET"] },
    pageCap: 50,
  });
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

function io(env: Record<string, string>): CliIo & { out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  return {
    out,
    err,
    stdout: out,
    stderr: err as unknown as NodeJS.WriteStream,
    env,
    now: () => NOW,
    cwd: dir,
  };
}

describe("parseReportArgs", () => {
  const bad = (argv: string[], message: RegExp) => {
    expect(() => parseReportArgs(argv, {}, NOW)).toThrow(message);
    try {
      parseReportArgs(argv, {}, NOW);
    } catch (error) {
      // An argument, a setting or dates no report can cover: the user's to fix.
      expect(exitCodeOf(error)).toBe(2);
    }
  };
  it("defaults to yesterday in the report time zone", () => {
    expect(parseReportArgs([], {}, NOW).dates).toEqual(["2026-11-27"]);
    // 00:30 UTC on the 28th is 09:30 in Tokyo: yesterday there is the 27th too; at 23:30 UTC it is the 28th
    expect(
      parseReportArgs([], { REPORT_TIMEZONE: "Asia/Tokyo" }, Date.UTC(2026, 10, 28, 23, 30)).dates,
    ).toEqual(["2026-11-28"]);
  });
  it("expands an inclusive range", () => {
    expect(parseReportArgs(["--from", "2026-02-27", "--to", "2026-03-02"], {}, NOW).dates).toEqual([
      "2026-02-27",
      "2026-02-28",
      "2026-03-01",
      "2026-03-02",
    ]);
  });
  it("rejects bad arguments with one clear line", () => {
    bad(["--date", "2026-02-30"], /--date "2026-02-30" is not a date/);
    bad(
      ["--from", "2026-03-02", "--to", "2026-03-01"],
      /--from 2026-03-02 is after --to 2026-03-01/,
    );
    bad(["--from", "2026-01-01", "--to", "2026-04-03"], /covers 93 days; at most 92/);
    bad(["--dates", "2026-01-01"], /Unknown option '--dates'/);
    // Today has not ended: its report would be short, and latest.json never moves back.
    bad(["--date", "2026-11-28"], /2026-11-28 has not ended yet in UTC/);
    bad(["--from", "2026-11-20", "--to", "2099-01-01"], /2099-01-01 has not ended yet/);
    bad(
      ["--date", "2026-01-01", "--from", "2026-01-01", "--to", "2026-01-02"],
      /either --date or --from/,
    );
    bad(["--from", "2026-01-01"], /--from and --to go together/);
    // Before the floor: a scan for year 0 would fail in the time arithmetic, not here.
    bad(["--date", "0000-01-01"], /before 2000-01-01/);
    bad(["--month", "1999-12"], /before 2000-01/);
  });
  it("accepts exactly 92 days", () => {
    expect(
      parseReportArgs(["--from", "2026-01-01", "--to", "2026-04-02"], {}, NOW).dates,
    ).toHaveLength(92);
  });
});

describe("npm run report", () => {
  const env = () => ({
    MODELARTS_ENDPOINT: sim.url,
    MODELARTS_PROJECT_ID: "p",
    MODELARTS_TOKEN: "cli-token-SECRET",
    REPORT_STORAGE: "file://./out",
  });

  it("writes the files, prints where and a table of top flavors, and shows progress", async () => {
    const cli = io(env());
    expect(await runReportCli(["--date", "2026-11-27"], cli)).toBe(0);
    expect(cli.out.text).toContain("wrote file://./out/daily/2026-11-27/report.json");
    expect(cli.out.text).toContain("wrote file://./out/daily/2026-11-27/usage.csv");
    expect(cli.out.text).toMatch(/flavor\s+active\s+GPUs\s+peak\s+GPU-h\s+NPU-h/);
    expect(cli.err.text).toMatch(/scan: 9 pages, 400 of 400 versions read, done/);
    const latest = JSON.parse(await readFile(join(dir, "out", "latest.json"), "utf8"));
    expect(latest.report_date).toBe("2026-11-27");
    expect(cli.out.text + cli.err.text).not.toContain("cli-token-SECRET");
  });

  it("exits 2 on bad configuration and 1 when the API keeps failing, leaving latest.json", async () => {
    expect(await runReportCli([], io({ ...env(), REPORT_TIMEZONE: "Mars/Base" }))).toBe(2);
    const before = await readFile(join(dir, "out", "latest.json"), "utf8");
    const cli = io({ ...env(), MODELARTS_MAX_ATTEMPTS: "2" });
    sim.queueFaults({ kind: "status", status: 503 }, { kind: "status", status: 503 });
    expect(await runReportCli(["--date", "2026-11-26"], cli)).toBe(1);
    expect(cli.err.text).toMatch(/error: the report run failed: .*HTTP 503/);
    expect(cli.err.text).toContain("latest.json was not changed");
    expect(await readFile(join(dir, "out", "latest.json"), "utf8")).toBe(before);
  });

  it("runs as a real process with exit code 2 and one line for an unknown option", async () => {
    const error = await run(process.execPath, ["dist/cli.mjs", "report", "--bogus"], {
      cwd: process.cwd(),
    }).catch((e: unknown) => e);
    expect((error as { code: number }).code).toBe(2);
    const stderr = (error as { stderr: string }).stderr.trim().split("\n");
    expect(stderr.filter((l) => l.startsWith("error:"))).toEqual([
      expect.stringMatching(/^error: Unknown option '--bogus'/),
    ]);
  });
});
