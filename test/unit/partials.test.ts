import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import type { ScanResult } from "../../src/scan/scan.js";
import { FileStore } from "../../src/storage/file-store.js";
import { readPartial, writePartial } from "../../src/storage/partials.js";
import { sha256Hex } from "../../src/storage/publish.js";

/** A scan between ScanSource and Publish (issue 21): what is read is what was written, or nothing. */

let dir: string;
let store: FileStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "partials-"));
  store = new FileStore(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const text = fc.option(fc.string({ maxLength: 12 }), { nil: null });
const count = fc.nat({ max: 2 ** 40 });
const version = fc.record({
  versionId: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  versionName: text,
  status: fc.nat({ max: 30 }),
  createTime: count,
  startTime: count,
  endTime: count,
  duration: count,
  flavorCode: text,
  poolId: fc.constantFrom(null, "pool-a", "pool-b"),
  gpuNum: fc.nat({ max: 64 }),
  npuNum: fc.nat({ max: 64 }),
});
const scanOf = (versions: JobVersion[]): ScanResult => ({
  versions: new Map(versions.map((v) => [v.versionId, v])),
  versionsScanned: versions.length + 3,
  recordsRead: versions.length + 4,
  pages: 7,
  repairPages: 1,
  totalCountFirst: versions.length + 4,
  totalCountLast: versions.length + 4,
  anomalies: { skipped: 1, duplicate_rows: 2, reasons: { "version_id: missing": 1 } },
});

describe("partials", () => {
  it("read back exactly the scan written: its figures and every version, strings interned", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(version, { maxLength: 40 }), async (versions) => {
        const scan = scanOf(versions);
        const ref = await writePartial(store, "run-p", 2, "research.nlp", scan);
        expect(ref.key).toMatch(/^runs\/run-p\/2-[0-9a-f]{16}\.json\.gz$/);
        const read = await readPartial(store, ref, "run-p", "research.nlp");
        expect([...read.versions.values()]).toEqual([...scan.versions.values()]);
        const { versions: _a, ...figures } = read;
        const { versions: _b, ...written } = scan;
        expect(figures).toEqual(written);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a partial of another run or source, a changed file, and a bad field", async () => {
    const scan = scanOf([
      {
        versionId: 7,
        versionName: "a",
        status: 10,
        createTime: 1,
        startTime: 2,
        endTime: 3,
        duration: 1,
        flavorCode: "f",
        poolId: null,
        gpuNum: 1,
        npuNum: 0,
      },
    ]);
    const ref = await writePartial(store, "run-q", 0, "eu-prod", scan);
    await expect(readPartial(store, ref, "run-other", "eu-prod")).rejects.toThrow(
      "is not one of run run-other",
    );
    await expect(readPartial(store, ref, "run-q", "research")).rejects.toThrow(
      "is not research's of run run-q",
    );
    await expect(
      readPartial(store, { ...ref, sha256: "0".repeat(64) }, "run-q", "eu-prod"),
    ).rejects.toThrow("is not the file its scan wrote");
    // A file with the right size and SHA-256 but a field out of place: checked after decoding.
    const bad = gzipSync(
      JSON.stringify({
        format: "modelarts-usage-report/partial",
        version: 1,
        run_id: "run-q",
        source: "eu-prod",
        scan: { ...scan, versions: undefined },
        strings: [],
        versions: [7, 5, 10, 1, 2, 3, 1, -1, -1, 1, 0],
      }),
    );
    const key = "runs/run-q/9-bad.json.gz";
    await writeFile(join(dir, key), bad);
    await expect(
      readPartial(store, { key, bytes: bad.length, sha256: sha256Hex(bad) }, "run-q", "eu-prod"),
    ).rejects.toThrow("names a string it does not hold");
  });
});
