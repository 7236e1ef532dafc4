import { readFile } from "node:fs/promises";
import { keepHeapFlat } from "../src/app/heap-policy.js";
import { publishScans } from "../src/app/report-job.js";
import { FileStore } from "../src/storage/file-store.js";
import { type PartialRef, readPartial } from "../src/storage/partials.js";

/**
 * `node .bench/publish-partials.mjs <root> <run.json>`: what the Publish function does with a
 * run's partials (read, check, decode every source's, then publish the month), alone in its
 * process, so the preloaded max-RSS hook measures Publish's memory (issue 21).
 */

keepHeapFlat();
const [root = "", runFile = ""] = process.argv.slice(2);
const run = JSON.parse(await readFile(runFile, "utf8")) as {
  runId: string;
  month: string;
  now: number;
  sources: { name: string; ref: PartialRef }[];
};
const store = new FileStore(root);
const started = performance.now();
const scans = [];
for (const s of run.sources) scans.push(await readPartial(store, s.ref, run.runId, s.name));
const read = performance.now() - started;
const result = await publishScans(
  {
    store,
    sources: run.sources.map((s) => ({
      name: s.name,
      listing: { endpoint: "bench", projectId: s.name, workspaceId: null, poolId: null },
    })),
  },
  { dates: [], month: run.month, timeZone: "UTC", failureStatuses: [3, 5, 6, 13], now: run.now },
  scans,
);
process.stdout.write(
  `read-ms ${read.toFixed(0)} publish-ms ${(performance.now() - started - read).toFixed(0)} versions ${result.scan.versionsScanned} active ${result.month?.report.report.totals.versions_active ?? 0}\n`,
);
