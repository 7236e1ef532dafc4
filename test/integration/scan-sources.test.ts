import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { type ListPage, ModelArtsClient, type VersionSource } from "../../src/modelarts/client.js";
import { scanSources } from "../../src/scan/sources.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";

/**
 * Sources are scanned at once (report.md §10), each at its own concurrency, under one cap on
 * the requests in flight across all of them: measured at the port each scan reads from.
 */

const NOW = Date.UTC(2026, 10, 28);
const sims: Simulator[] = [];

beforeAll(async () => {
  for (let i = 0; i < 3; i++) {
    sims.push(
      await startSimulator({
        projectId: `p${i}`,
        versions: generateWorkload({ versions: 400, seed: i + 1, days: 3, now: NOW }),
        auth: { tokens: ["t"] },
        pageCap: 20,
        latencyMs: 15,
        now: () => NOW,
      }),
    );
  }
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

/** Counts the requests of every port in flight at once, and the most there ever were. */
function meter() {
  let now = 0;
  let most = 0;
  const wrap = (source: VersionSource): VersionSource => ({
    async listPage(offset, limit, options): Promise<ListPage> {
      now++;
      most = Math.max(most, now);
      try {
        return await source.listPage(offset, limit, options);
      } finally {
        now--;
      }
    },
  });
  return { wrap, most: () => most };
}

const scans = (wrap: (s: VersionSource) => VersionSource) =>
  sims.map((sim, i) => ({
    name: `s${i}`,
    versions: wrap(
      new ModelArtsClient({ endpoint: sim.url, projectId: `p${i}`, auth: staticTokenAuth("t") }),
    ),
    pageSize: 20,
    concurrency: 4,
  }));

describe("scanning several sources", () => {
  it("keeps the requests in flight across every source under the shared cap", async () => {
    const m = meter();
    const results = await scanSources(scans(m.wrap), { keep: () => true, maxInFlight: 3 });
    expect(results.map((r) => r.versionsScanned)).toEqual([400, 400, 400]);
    expect(m.most()).toBe(3);
  });

  it("overlaps the sources rather than queueing them", async () => {
    const m = meter();
    await scanSources(scans(m.wrap), { keep: () => true });
    // Each source's first page comes alone, then 4 at a time: 3 sources reach 12 together.
    expect(m.most()).toBeGreaterThan(4);
    expect(m.most()).toBeLessThanOrEqual(12);
  });
});
