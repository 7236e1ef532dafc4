import { loadBaseConfig } from "../app/config.js";
import { rebuildHistory } from "../storage/history.js";
import { openStore } from "../storage/open-store.js";
import { acquireRunLock } from "../storage/run-lock.js";
import { type CliIo, fail, parseOptions } from "./main.js";

/**
 * `npm run reindex -- [--storage URL]`: rebuilds history.json (the index behind GET /reports
 * and the pages' 30-day trend) from the daily report.json files, under the run lock so that no
 * run writes meanwhile. Exit codes: 0 rebuilt, 2 bad arguments, 1 it could not be done.
 */
export async function runReindexCli(argv: readonly string[], io: CliIo): Promise<number> {
  let storage: string;
  try {
    const values = parseOptions(
      argv,
      { storage: { type: "string" } },
      "usage: npm run reindex -- [--storage URL]",
    );
    storage = loadBaseConfig(io.env, { storage: values.storage }).storage;
  } catch (error) {
    return fail(io, error);
  }
  try {
    const store = openStore(storage, { cwd: io.cwd });
    const lock = await acquireRunLock(store);
    try {
      const { days, skipped } = await rebuildHistory(store);
      io.stdout.write(`history.json rebuilt from ${days} daily reports in ${store.url}\n`);
      for (const date of skipped)
        io.stdout.write(`skipped ${date}: its report.json cannot be read\n`);
    } finally {
      await lock.release();
    }
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}
