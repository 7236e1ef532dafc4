import { ConfigError, UsageReportError } from "../shared/errors.js";
import { DEMO_CREDENTIALS } from "../simulator/demo.js";
import { type Simulator, type SimulatorOptions, startSimulator } from "../simulator/server.js";
import { generateWorkload } from "../simulator/workload.js";
import { type CliIo, fail, parseOptions } from "./main.js";

/**
 * `npm run simulate -- [--port 4010] [--versions 5000] [--seed 7] [--page-cap N]
 * [--latency MS] [--failure-rate F] [--days 30]`
 *
 * Serves a generated workload on loopback for trying the reporter by hand. The credentials
 * are fixed demo values, printed on purpose: they open nothing but this local simulator.
 * Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 2 bad arguments, 1 could not start.
 */

const USAGE =
  "usage: npm run simulate -- [--port 4010] [--versions 5000] [--seed 7] [--page-cap N] [--latency MS] [--failure-rate 0-1] [--days 30]";

export interface SimulateArgs {
  readonly port: number;
  readonly versions: number;
  readonly seed: number;
  readonly days: number;
  readonly pageCap: number | undefined;
  readonly latencyMs: number | undefined;
  readonly failureRate: number | undefined;
  readonly help: boolean;
}

function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`--${name} "${raw}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Parses the command line; throws ConfigError with one clear line. */
export function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  const values = parseOptions(
    argv,
    {
      port: { type: "string" },
      versions: { type: "string" },
      seed: { type: "string" },
      "page-cap": { type: "string" },
      latency: { type: "string" },
      "failure-rate": { type: "string" },
      days: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  const rawRate = values["failure-rate"];
  let failureRate: number | undefined;
  if (rawRate !== undefined) {
    failureRate = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/.test(rawRate) ? Number(rawRate) : Number.NaN;
    if (!(failureRate >= 0 && failureRate <= 1)) {
      throw new ConfigError(`--failure-rate "${rawRate}" is not a fraction from 0 to 1`);
    }
  }
  const pageCap = values["page-cap"];
  const latency = values.latency;
  return {
    port: wholeNumber("port", values.port, 4010, 0, 65_535),
    versions: wholeNumber("versions", values.versions, 5000, 0, 2_000_000),
    seed: wholeNumber("seed", values.seed, 7, 0, 0xffff_ffff),
    days: wholeNumber("days", values.days, 30, 1, 3660),
    pageCap: pageCap === undefined ? undefined : wholeNumber("page-cap", pageCap, 0, 1, 1_000_000),
    latencyMs: latency === undefined ? undefined : wholeNumber("latency", latency, 0, 0, 60_000),
    failureRate,
    help: values.help === true,
  };
}

/** The generated workload behind a simulator with the demo credentials. */
export function startDemoSimulator(args: SimulateArgs, now: number): Promise<Simulator> {
  const options: SimulatorOptions = {
    projectId: DEMO_CREDENTIALS.projectId,
    versions: generateWorkload({ versions: args.versions, seed: args.seed, now, days: args.days }),
    auth: {
      tokens: [DEMO_CREDENTIALS.token],
      aksk: [{ ak: DEMO_CREDENTIALS.ak, sk: DEMO_CREDENTIALS.sk }],
      iamUsers: [DEMO_CREDENTIALS.iamUser],
    },
    seed: args.seed,
    ...(args.pageCap === undefined ? {} : { pageCap: args.pageCap }),
    ...(args.latencyMs === undefined ? {} : { latencyMs: args.latencyMs }),
    ...(args.failureRate === undefined ? {} : { failureRate: args.failureRate }),
  };
  return startSimulator(options, args.port);
}

/** What to print once listening; the last line is the one a parent process waits for. */
export function banner(url: string, args: SimulateArgs): string {
  const c = DEMO_CREDENTIALS;
  const extras = [
    args.pageCap === undefined ? undefined : `page cap ${args.pageCap}`,
    args.latencyMs === undefined ? undefined : `latency ${args.latencyMs} ms`,
    args.failureRate === undefined ? undefined : `failure rate ${args.failureRate}`,
  ].filter((x) => x !== undefined);
  return [
    `ModelArts simulator: ${args.versions} training-job versions over ${args.days} days (seed ${args.seed})${extras.length > 0 ? `, ${extras.join(", ")}` : ""}`,
    "Demo credentials (they open only this local simulator):",
    `  project id  ${c.projectId}`,
    `  token       ${c.token}    (X-Auth-Token)`,
    `  AK / SK     ${c.ak} / ${c.sk}`,
    `  IAM user    ${c.iamUser.username} / ${c.iamUser.password}, domain ${c.iamUser.domain}, at ${url}/v3/auth/tokens`,
    "Point the reporter at it:",
    `  MODELARTS_ENDPOINT=${url} MODELARTS_PROJECT_ID=${c.projectId} MODELARTS_TOKEN=${c.token} npm run report`,
    `listening on ${url}`,
    "",
  ].join("\n");
}

/**
 * Runs the simulator until SIGINT or SIGTERM; resolves with the exit code (0 after a clean
 * shutdown, 2 bad arguments, 1 it could not start).
 */
export async function runSimulateCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: SimulateArgs;
  try {
    args = parseSimulateArgs(argv);
  } catch (error) {
    return fail(io, error);
  }
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let sim: Simulator;
  try {
    sim = await startDemoSimulator(args, io.now());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const failure = `the simulator could not start on port ${args.port}: ${reason}`;
    return fail(io, new UsageReportError(failure, { cause: error }));
  }
  io.stdout.write(banner(sim.url, args));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second Ctrl-C: the user does not want to wait for open connections.
        process.exit(130);
      }
      stopping = true;
      io.stderr.write(`${signal}: closing the simulator\n`);
      void sim.close().then(() => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve(0);
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
