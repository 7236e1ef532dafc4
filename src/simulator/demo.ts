import type { DemoUpstream } from "../app/run.js";
import { Secret } from "../shared/secret.js";
import { startSimulator } from "./server.js";
import { generateWorkload } from "./workload.js";

/**
 * The embedded default: the simulator on a free loopback port, serving a seeded month of
 * a team's jobs that ends at `now`. Used by `npm start` and by `npm run report` when no
 * MODELARTS_ENDPOINT is set. No network leaves the machine.
 */
/**
 * Fixed demo credentials, printed on purpose by `npm run simulate`: they open nothing but the
 * local simulator.
 */
export const DEMO_CREDENTIALS = {
  projectId: "demo-project",
  token: "demo-token",
  ak: "DEMOAK",
  sk: "demo-secret-key",
  iamUser: { username: "demo", password: "demo-password", domain: "demo-domain" },
} as const;

/** The demo workload of `npm start`: a month of a team's jobs, the same for the same day. */
export const DEMO_WORKLOAD = { versions: 3000, seed: 7, days: 30 } as const;

export type { DemoUpstream } from "../app/run.js";

export async function startDemoUpstream(now: number): Promise<DemoUpstream> {
  const versions = generateWorkload({ ...DEMO_WORKLOAD, now });
  const sim = await startSimulator({
    projectId: DEMO_CREDENTIALS.projectId,
    versions,
    auth: { tokens: [DEMO_CREDENTIALS.token] },
    pageCap: 100,
    now: () => now,
  });
  return {
    sources: [
      {
        name: "default",
        allWorkspaces: false,
        upstream: {
          endpoint: sim.url,
          projectId: DEMO_CREDENTIALS.projectId,
          workspaceId: null,
          poolId: null,
          auth: { kind: "token", token: new Secret(DEMO_CREDENTIALS.token) },
          pageSize: 100,
          concurrency: 8,
          timeoutMs: 30_000,
          maxAttempts: 5,
        },
      },
    ],
    close: () => sim.close(),
  };
}
