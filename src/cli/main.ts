import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError } from "../shared/errors.js";

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

/**
 * Strict option parsing (node:util parseArgs): an unknown option or a missing value becomes
 * a ConfigError with node's first line (it names the option) and the usage.
 */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`${message}. ${usage}`);
  }
}
