import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SOURCE_NAME, type SourceConfig, workspaceSourceNames } from "../../src/app/sources.js";
import { createClient } from "../../src/app/upstream.js";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import { runEnd } from "../../src/report/interval.js";
import { peaks } from "../../src/report/peaks.js";
import { scanVersions } from "../../src/scan/scan.js";
import {
  DEMO_ORGANISATION,
  DEMO_WORKLOAD,
  startDemoOrganisation,
} from "../../src/simulator/demo.js";

// The demo reports yesterday: 2026-11-27 (UTC, the default time zone).
const NOW = Date.UTC(2026, 10, 28, 9, 30);
const DAY_START = Date.UTC(2026, 10, 27);
const DAY_END = Date.UTC(2026, 10, 28);

let demo: { sources: SourceConfig[]; close(): Promise<void> };

beforeAll(async () => {
  demo = await startDemoOrganisation(NOW);
});
afterAll(() => demo.close());

function source(name: string): SourceConfig {
  const found = demo.sources.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no demo source ${name}`);
  return found;
}

/** Each listing of the demo as the run expands it: `"*"` entries through ListWorkspace. */
async function expandedListings(): Promise<{ name: string; source: SourceConfig; ws: string }[]> {
  const listings: { name: string; source: SourceConfig; ws: string }[] = [];
  for (const s of demo.sources) {
    if (!s.allWorkspaces) {
      listings.push({ name: s.name, source: s, ws: s.upstream.workspaceId ?? "0" });
      continue;
    }
    const workspaces = await (await createClient(s.upstream)).listWorkspaces();
    for (const { name, workspaceId } of workspaceSourceNames(s.name, workspaces)) {
      listings.push({ name, source: s, ws: workspaceId });
    }
  }
  return listings;
}

async function scan(listing: { source: SourceConfig; ws: string }): Promise<JobVersion[]> {
  const client = await createClient({ ...listing.source.upstream, workspaceId: listing.ws });
  const result = await scanVersions(client, { pageSize: 100, concurrency: 4, keep: () => true });
  return [...result.versions.values()];
}

/** [start, end, gpus, npus] of each version's run, clipped to the demo day. */
function dayIntervals(versions: readonly JobVersion[]): number[] {
  const out: number[] = [];
  for (const v of versions) {
    const start = Math.max(v.startTime, DAY_START);
    const end = Math.min(runEnd(v, NOW), DAY_END);
    if (end > start) out.push(start, end, v.gpuNum, v.npuNum);
  }
  return out;
}

describe("the demo organisation", () => {
  it("is two projects on two endpoints, one read with every workspace", () => {
    expect(demo.sources.map((s) => [s.name, s.allWorkspaces, s.upstream.projectId])).toEqual([
      ["research", true, "demo-project"],
      ["eu-prod", false, "demo-project-eu"],
    ]);
    for (const s of demo.sources) expect(s.name).toMatch(SOURCE_NAME);
    expect(source("research").upstream.endpoint).not.toBe(source("eu-prod").upstream.endpoint);
  });

  it("lists the research project's three workspaces through ListWorkspace", async () => {
    const client = await createClient(source("research").upstream);
    const workspaces = await client.listWorkspaces();
    expect(workspaces.map((w) => w.name).sort()).toEqual(["NLP", "Vision Team", "default"]);
    for (const w of workspaces) expect(w.id).toMatch(/^(0|[0-9a-f]{32})$/);
    expect(workspaceSourceNames("research", workspaces).map((n) => n.name)).toEqual([
      "research.default",
      "research.vision-team",
      "research.nlp",
    ]);
  });

  it("serves every listing of every source with the demo credentials, 3000 versions in all", async () => {
    const listings = await expandedListings();
    expect(listings.map((l) => l.name)).toEqual([
      "research.default",
      "research.vision-team",
      "research.nlp",
      "eu-prod",
    ]);
    const counts = await Promise.all(listings.map(async (l) => (await scan(l)).length));
    // Each listing holds the versions generated for its workspace, and no other's.
    const expected = DEMO_ORGANISATION.flatMap((p) => p.listings.map((l) => l.versions));
    expect(counts).toEqual(expected);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(DEMO_WORKLOAD.versions);
  });

  it("has sources holding GPUs at the same instants, so the peak of the sum is above each one's", async () => {
    const perListing = await Promise.all((await expandedListings()).map(scan));
    const single = perListing.map((versions) => peaks(dayIntervals(versions))[0]);
    const union = peaks(perListing.flatMap(dayIntervals))[0];
    for (const peak of single) expect(peak).toBeGreaterThan(0);
    expect(union).toBeGreaterThan(Math.max(...single));
    // A peak of the sum is at most the sum of the peaks.
    expect(union).toBeLessThanOrEqual(single.reduce((a, b) => a + b, 0));
  });
});
