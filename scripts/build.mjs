// `npm run build` (and `npm install`, through `prepare`): the command line as compiled
// JavaScript, like the Lambda bundles, so that no command compiles TypeScript as it starts.
// dist/cli.mjs is the entry point; each command, and the simulator, is a chunk of its own
// that is loaded only when used (esbuild code splitting).
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
await rm(`${root}/dist`, { recursive: true, force: true });
await build({
  entryPoints: { cli: `${root}/src/cli/bin.ts` },
  outdir: `${root}/dist`,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  minify: true,
  sourcemap: "linked",
  // Bundled CommonJS dependencies call require(); ESM has none of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
});
