import { Logger } from "@aws-lambda-powertools/logger";
import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import {
  type ApiConfig,
  linkKeyBytes,
  loadApiConfig,
  loadReportConfig,
  type ReportConfig,
} from "../app/config.js";
import { ConfigError } from "../shared/errors.js";
import type { Log } from "../shared/log.js";
import { redactingReplacer } from "../shared/redact.js";
import { openStore } from "../storage/open-store.js";
import type { ReportStore } from "../storage/store.js";

/**
 * What the handlers share within one Lambda container: the logger, secrets (cached by
 * Powertools for 5 minutes), and each function's own configuration and store, read from the
 * environment on first use. Reading lazily means a bad setting becomes a logged, shaped error
 * of the invocation rather than a crash of the container's init; a failed read is not kept,
 * so a fixed setting takes effect without a cold start.
 *
 * There is deliberately no way to inject a store or a config here: tests set the environment
 * (as the template does) and load the handler modules afresh.
 */
export const logger = new Logger({
  serviceName: "modelarts-usage-report",
  // Signatures and tokens never reach the log, whatever field or message carries them.
  jsonReplacerFn: redactingReplacer,
});

export const log: Log = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
};

/** `make()` on the first call that succeeds; its value from then on. */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

const SECRET_MAX_AGE_SECONDS = 300;

export async function fetchSecret(secretId: string): Promise<string> {
  const value = await getSecret(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (typeof value !== "string") throw new ConfigError(`secret ${secretId} has no string value`);
  return value;
}

/** The HTTP API functions: the API configuration only (never the upstream's). */
export const api = {
  config: lazy((): ApiConfig => loadApiConfig(process.env)),
  store: lazy((): ReportStore => openStore(api.config().storage)),
  /**
   * The bearer token: the secret's value deployed, REPORT_API_TOKEN locally. Trimmed: a
   * secret or variable filled from a file often ends in a newline, which would otherwise make
   * every request fail with 401 (the header's token can never carry one).
   */
  async token(): Promise<string> {
    const source = api.config().apiToken;
    const token =
      source.kind === "secret"
        ? (await fetchSecret(source.secretId)).trim()
        : source.token.reveal().trim();
    if (token === "") throw new ConfigError("the API token is empty");
    return token;
  },
  /** The link key, or `undefined` where none is configured (the local stage, optionally). */
  async linkKey(): Promise<Buffer | undefined> {
    const source = api.config().linkKey;
    return source === null ? undefined : linkKeyBytes(source, fetchSecret);
  },
};

/** The report run (the scheduled function, and POST /reports on the local stage). */
export const report = {
  config: lazy((): ReportConfig => loadReportConfig(process.env)),
  store: lazy((): ReportStore => openStore(report.config().storage)),
};
