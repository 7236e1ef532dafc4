import { type CliIo, processIo } from "./main.js";

/**
 * The command line's one entry point, bundled to dist/cli.mjs by `npm run build` (which
 * `npm install` runs): `node dist/cli.mjs <command> [options]`. Each command is loaded only
 * when it is run, so a report does not load the simulator, nor the simulator the reporter.
 */

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  report: () => import("./report.js").then((m) => m.runReportCli),
  start: () => import("./start.js").then((m) => m.runStartCli),
  simulate: () => import("./simulate.js").then((m) => m.runSimulateCli),
  verify: () => import("./verify.js").then((m) => m.runVerifyCli),
  link: () => import("./link.js").then((m) => m.runLinkCli),
  reindex: () => import("./reindex.js").then((m) => m.runReindexCli),
};

const [name = "", ...argv] = process.argv.slice(2);
const load = COMMANDS[name];
if (load === undefined) {
  process.stderr.write(
    `error: no command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}\n`,
  );
  process.exitCode = 2;
} else {
  process.exitCode = await (await load())(argv, processIo());
}
