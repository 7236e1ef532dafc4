import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What a command reads and writes; tests pass their own. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => number;
  readonly cwd: string;
}

export function processIo(env: CliIo["env"] = process.env): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env, now: Date.now, cwd: process.cwd() };
}

/** Runs `command` with the process's arguments when `moduleUrl` is the script node was given. */
export function runIfMain(
  moduleUrl: string,
  command: (argv: readonly string[], io: CliIo) => Promise<number>,
): void {
  if (process.argv[1] === undefined || fileURLToPath(moduleUrl) !== resolve(process.argv[1]))
    return;
  command(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
