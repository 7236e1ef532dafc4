import { expect, it } from "vitest";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import { scanVersions } from "../../src/scan/scan.js";
import { startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { useRunSetup } from "../helpers/run-setup.js";

const workload = generateWorkload({ versions: 2000, seed: 4, now: Date.UTC(2026, 10, 28) });
const run = useRunSetup({ projectId: "p", versions: workload, pageCap: 50 });

it("backs off all concurrent page requests together on a 429 with Retry-After", async () => {
  const answered: number[] = [];
  run.sim.onListing(() => {
    answered.push(Date.now());
    if (answered.length === 3)
      run.sim.queueFaults({ kind: "status", status: 429, retryAfterSeconds: 1 });
  });
  const client = run.client({
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2000, budgetMs: 10_000 },
  });
  const started = Date.now();
  const result = await scanVersions(client, { pageSize: 50, concurrency: 4, keep: () => true });
  run.sim.onListing(undefined);
  expect(result.versionsScanned).toBe(2000);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  // The pause shows as one long silence; had only the throttled request waited, the others
  // would have finished the scan before it and nearly nothing would come after the silence.
  const gaps = answered.slice(1).map((t, i) => t - (answered[i] as number));
  const longest = gaps.indexOf(Math.max(...gaps));
  expect(gaps[longest]).toBeGreaterThanOrEqual(900);
  expect(answered.length - (longest + 1)).toBeGreaterThanOrEqual(30);
});

it("scans at concurrency 16 without Node warning of a listener leak, here or in the simulator", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  // with latency, so that the simulator too holds 16 delayed answers at once
  const slow = await startSimulator({
    projectId: "p",
    versions: workload,
    auth: { tokens: ["t"] },
    pageCap: 50,
    latencyMs: 20,
  });
  try {
    const client = new ModelArtsClient({
      endpoint: slow.url,
      projectId: "p",
      auth: staticTokenAuth("t"),
    });
    const result = await scanVersions(client, { pageSize: 50, concurrency: 16, keep: () => true });
    expect(result.versionsScanned).toBe(2000);
    // warnings are emitted on the next tick
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", onWarning);
    await slow.close();
  }
  expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
});
