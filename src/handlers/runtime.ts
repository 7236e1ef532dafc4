import { Logger } from "@aws-lambda-powertools/logger";
import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { type Config, loadConfig } from "../lib/config.js";
import { ConfigError } from "../lib/errors.js";
import type { Log } from "../lib/log.js";
import { openStore } from "../lib/storage/open-store.js";
import type { ReportStore } from "../lib/storage/store.js";

/**
 * What the handlers share within one Lambda container: the logger, the configuration (read
 * once, on first use, so a bad setting is logged as such rather than crashing the init), the
 * store, and secrets (cached by Powertools for 5 minutes).
 */
export const logger = new Logger({ serviceName: "modelarts-usage-report" });

export const log: Log = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
};

let config: Config | undefined;
let store: ReportStore | undefined;

export function getConfig(): Config {
  config ??= loadConfig(process.env);
  return config;
}

export function getStore(): ReportStore {
  store ??= openStore(getConfig().storage);
  return store;
}

const SECRET_MAX_AGE_SECONDS = 300;

export async function fetchSecret(secretId: string): Promise<string> {
  const value = await getSecret(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (typeof value !== "string") throw new ConfigError(`secret ${secretId} has no string value`);
  return value;
}

/**
 * The API's bearer token: from Secrets Manager in AWS (REPORT_API_TOKEN_SECRET), or from
 * REPORT_API_TOKEN for the local stage only. `undefined` when neither is set.
 */
export async function apiToken(): Promise<string | undefined> {
  const secretId = process.env.REPORT_API_TOKEN_SECRET?.trim();
  // Trimmed: a secret or variable filled from a file often ends in a newline, which would
  // otherwise make every request fail with 401 (the header's token can never carry one).
  const token = secretId
    ? (await fetchSecret(secretId)).trim()
    : process.env.REPORT_API_TOKEN?.trim();
  return token ? token : undefined;
}

/** For tests: forget what was read from the environment. */
export function resetRuntime(overrides: { store?: ReportStore } = {}): void {
  config = undefined;
  store = overrides.store;
}
