// `npm run bench`: the benchmark as compiled JavaScript, like the commands it measures. Run
// through tsx, the same aggregation took 1.7× as long as from a bundle, so the figures would
// be tsx's and not the product's. Builds .bench/run.mjs (at the depth of bench/, so its paths
// hold), .bench/sim-host.mjs (the organisation's simulators, a process of their own) and
// .bench/publish-partials.mjs (Publish over a run's partials, alone in its process), and
// runs the first with the arguments given.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}/.bench/run.mjs`;
await build({
  entryPoints: [
    `${root}/bench/run.ts`,
    `${root}/bench/sim-host.ts`,
    `${root}/bench/publish-partials.ts`,
  ],
  outdir: `${root}/.bench`,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // esbuild, measured by the benchmark's cold-start section, stays a package of its own.
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
const result = spawnSync(
  process.execPath,
  // --expose-gc: the id-set figure is read between full collections.
  ["--enable-source-maps", "--expose-gc", out, ...process.argv.slice(2)],
  {
    stdio: "inherit",
  },
);
process.exit(result.status ?? 1);
