import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runReportJob } from "../src/lib/job.js";
import { staticTokenAuth } from "../src/lib/modelarts/auth.js";
import { ModelArtsClient } from "../src/lib/modelarts/client.js";
import { FileStore } from "../src/lib/storage/file-store.js";
import { DEMO_CREDENTIALS } from "../src/simulator/demo.js";

/**
 * Runs one report against the simulator at argv[2] in a fresh process and prints its peak
 * resident memory, so the benchmark's own state does not count: a 1-day report of argv[4], or,
 * with argv[5], the month report of that month alone.
 */
const [url, concurrency, date, month] = process.argv.slice(2);
const dir = await mkdtemp(join(tmpdir(), "bench-rss-"));
try {
  const started = performance.now();
  const result = await runReportJob(
    {
      versions: new ModelArtsClient({
        endpoint: url as string,
        projectId: DEMO_CREDENTIALS.projectId,
        auth: staticTokenAuth(DEMO_CREDENTIALS.token),
      }),
      store: new FileStore(dir),
    },
    {
      dates: month === undefined ? [date as string] : [],
      month,
      timeZone: "UTC",
      failureStatuses: [3, 5, 6, 13],
      now: Date.now(),
      pageSize: 100,
      concurrency: Number(concurrency),
      sourceInfo: { endpoint: "bench", projectId: "demo-project", workspaceId: null, poolId: null },
    },
  );
  const ms = performance.now() - started;
  // resourceUsage().maxRSS is in kilobytes.
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ versions: result.scan.versionsScanned, pages: result.scan.pages, ms, maxRssMb })}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
