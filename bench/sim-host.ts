import { type Simulator, startSimulator } from "../src/simulator/server.js";
import { generateWorkload } from "../src/simulator/workload.js";

/**
 * The benchmark's organisation: several simulators (one listing each, on ports of their own)
 * in one process of their own, so that their CPU is not the reporter's and the machine's two
 * cores are not shared by eight simulator processes. Started by `startSimHost` (sim-process.ts)
 * with its options as one JSON argument; prints `listening on <url>` for each listing, in the
 * order given, then `ready`; closes them all on SIGTERM. Each line `cpu` on its standard input is
 * answered `cpu-ms <n>`, its CPU time so far (user and system), so that the benchmark can tell
 * when the simulators rather than the reporter are what a run waits for.
 */

export interface SimHostOptions {
  readonly listings: readonly {
    readonly projectId: string;
    /** The one token this listing accepts (each source its own credentials). */
    readonly token: string;
    readonly versions: number;
    readonly seed: number;
  }[];
  readonly latencyMs: number;
  readonly pageCap: number;
  readonly days: number;
  readonly now: number;
}

const opts = JSON.parse(process.argv[2] ?? "") as SimHostOptions;
const sims: Simulator[] = [];
for (const l of opts.listings) {
  const sim = await startSimulator(
    {
      projectId: l.projectId,
      versions: generateWorkload({
        versions: l.versions,
        seed: l.seed,
        now: opts.now,
        days: opts.days,
      }),
      auth: { tokens: [l.token] },
      pageCap: opts.pageCap,
      latencyMs: opts.latencyMs,
      seed: l.seed,
    },
    0,
  );
  sims.push(sim);
  process.stdout.write(`listening on ${sim.url}\n`);
}
process.stdout.write("ready\n");
process.stdin.setEncoding("utf8");
process.stdin.on("data", (text: string) => {
  for (const _ of text.match(/^cpu$/gm) ?? []) {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu-ms ${(user + system) / 1000}\n`);
  }
});
process.once("SIGTERM", () => {
  void Promise.all(sims.map((s) => s.close())).then(() => process.exit(0));
});
