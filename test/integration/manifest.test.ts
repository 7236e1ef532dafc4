import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runVerifyCli } from "../../src/cli/verify.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { runOneSource } from "../helpers/one-source.js";
import { useRunSetup } from "../helpers/run-setup.js";
import { cliIo } from "../helpers/sink.js";

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const run = useRunSetup({
  projectId: "p",
  versions: generateWorkload({ versions: 500, seed: 12, now: NOW }),
  pageCap: 100,
  dirPrefix: "manifest-",
});

beforeAll(async () => {
  const store = new FileStore(join(run.dir, "reports"));
  const versions = run.client();
  await runOneSource(
    { versions, store },
    {
      dates: ["2026-11-26", "2026-11-27"],
      timeZone: "UTC",
      failureStatuses: [3, 5, 6, 13],
      now: NOW,
      pageSize: 100,
      sourceInfo: { endpoint: "sim", projectId: "p", workspaceId: null, poolId: null },
    },
  );
});

async function verify(date: string) {
  const io = cliIo({ REPORT_STORAGE: "file://./reports" }, NOW, run.dir);
  const code = await runVerifyCli(["--date", date], io);
  return { code, out: io.stdout.text, err: io.stderr.text };
}

const file = (date: string, name: string) => join(run.dir, "reports", "daily", date, name);

describe("the manifest", () => {
  it("records size and SHA-256 of each data file and the scan's completeness", async () => {
    const manifest = JSON.parse(await readFile(file("2026-11-27", "manifest.json"), "utf8"));
    const usage = await readFile(file("2026-11-27", "usage.csv"));
    expect(manifest.files["usage.csv"]).toEqual({
      key: "daily/2026-11-27/usage.csv",
      bytes: usage.length,
      sha256: createHash("sha256").update(usage).digest("hex"),
    });
    expect(Object.keys(manifest.files)).toEqual([
      "report.json",
      "usage.csv",
      "jobs.csv",
      "sources.csv",
    ]);
    // The run's start by its own clock: a slower run that started earlier never replaces it.
    expect(manifest.scan_started_at).toBe(new Date(NOW).toISOString());
    expect(manifest.completeness).toEqual({
      total_count_first: 500,
      total_count_last: 500,
      versions_scanned: 500,
      complete: true,
      by_source: {
        default: {
          total_count_first: 500,
          total_count_last: 500,
          versions_scanned: 500,
          complete: true,
        },
      },
    });
    const latest = JSON.parse(await readFile(join(run.dir, "reports", "latest.json"), "utf8"));
    expect(latest.files["manifest.json"]).toBe("daily/2026-11-27/manifest.json");
  });

  it("verifies untouched files", async () => {
    const result = await verify("2026-11-27");
    expect(result.code).toBe(0);
    expect(result.out).toContain("2026-11-27: verified");
  });

  it("reports a file with one byte changed", async () => {
    const path = file("2026-11-26", "jobs.csv");
    const bytes = await readFile(path);
    const i = bytes.indexOf(",true\r\n") >= 0 ? bytes.indexOf(",true\r\n") + 1 : 30;
    bytes[i] = (bytes[i] as number) ^ 0x01; // same size, one bit different
    await writeFile(path, bytes);
    const result = await verify("2026-11-26");
    expect(result.code).toBe(1);
    expect(result.out).toMatch(
      /MISMATCH daily\/2026-11-26\/jobs\.csv: SHA-256 differs from the manifest/,
    );
    expect(result.out).toMatch(/ok +daily\/2026-11-26\/usage\.csv/);
    expect(result.out).toContain("2026-11-26: NOT verified");
  });

  it("reports a missing date and bad arguments", async () => {
    expect((await verify("2020-01-01")).code).toBe(1);
    expect((await verify("2026-02-30")).code).toBe(2);
  });
});
