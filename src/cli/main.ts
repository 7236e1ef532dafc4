import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError, InvalidInputError, UsageReportError } from "../shared/errors.js";

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

/**
 * The one mapping of errors to exit codes: 2 for what the user can fix in the arguments or the
 * configuration (a ConfigError, or input such as dates that no report can cover), 1 for
 * anything else: the command was well asked, and failed.
 */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof ConfigError || error instanceof InvalidInputError ? 2 : 1;
}

export interface FailOptions {
  /** What could not be done, said before the reason when the command failed (exit code 1). */
  readonly failed?: string;
  /** The command's usage, added to a message about the arguments (exit code 2) without one. */
  readonly usage?: string;
}

/**
 * Ends a command on `error`: one `error:` line on standard error (never a stack trace), and
 * the exit code `exitCodeOf` gives. A message that is not one of ours says it was unexpected.
 */
export function fail(io: CliIo, error: unknown, opts: FailOptions = {}): 1 | 2 {
  const code = exitCodeOf(error);
  const reason = error instanceof Error ? error.message : String(error);
  let message = error instanceof UsageReportError ? reason : `unexpected error: ${reason}`;
  if (code === 1 && opts.failed !== undefined) message = `${opts.failed}: ${message}`;
  if (code === 2 && opts.usage !== undefined && !message.includes("usage:")) {
    message = `${message}. ${opts.usage}`;
  }
  io.stderr.write(`error: ${message}\n`);
  return code;
}
