import { DEFAULT_FAILURE_STATUSES } from "../modelarts/statuses.js";
import { isValidTimeZone } from "../report/time.js";
import { ConfigError } from "../shared/errors.js";
import { Secret } from "../shared/secret.js";

/**
 * Configuration, read once from the environment (report.md §6) into a typed, frozen object.
 * Every bad value fails fast with one line naming the variable. Secrets are wrapped in
 * `Secret` so that printing the config never shows them.
 */

export type UpstreamAuth =
  | { readonly kind: "token"; readonly token: Secret }
  | {
      readonly kind: "aksk";
      readonly ak: string;
      readonly sk: Secret;
      readonly securityToken: Secret | undefined;
    }
  | {
      readonly kind: "iam";
      readonly iamEndpoint: string;
      readonly username: string;
      readonly password: Secret;
      readonly domain: string;
    }
  /** Credentials held in AWS Secrets Manager / SSM, fetched at run time (the deployed form). */
  | { readonly kind: "secret"; readonly secretId: string };

export interface UpstreamConfig {
  readonly endpoint: string;
  readonly projectId: string;
  readonly workspaceId: string | null;
  readonly poolId: string | null;
  readonly auth: UpstreamAuth;
  readonly pageSize: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
}

/** What every function and command reads: where reports live and how a day is counted. */
export interface BaseConfig {
  readonly storage: string;
  readonly timeZone: string;
  /** Sorted ascending, no duplicates. */
  readonly failureStatuses: readonly number[];
}

/** The report run (CLI, scheduled function, local regeneration): the upstream and prices too. */
export interface ReportConfig extends BaseConfig {
  /** `null`: no endpoint configured, use the built-in demo (never in AWS). */
  readonly upstream: UpstreamConfig | null;
  /** PRICE_TABLE: a JSON file or an s3:// object with prices for `cost`; `null` for none. */
  readonly priceTable: string | null;
}

/** Where the API's bearer token comes from. */
export type ApiTokenSource =
  /** Deployed: a Secrets Manager secret, read at run time (REPORT_API_TOKEN_SECRET). */
  | { readonly kind: "secret"; readonly secretId: string }
  /** The local stage only (REPORT_API_TOKEN). */
  | { readonly kind: "value"; readonly token: Secret };

/** The HTTP API functions: no upstream, no prices; the token and, deployed, the report function. */
export interface ApiConfig extends BaseConfig {
  readonly apiToken: ApiTokenSource;
  /**
   * The key that signs links (REPORT_LINK_KEY_SECRET deployed, REPORT_LINK_KEY locally);
   * `null` when none is set (locally only): then no link is made or accepted.
   */
  readonly linkKey: ApiTokenSource | null;
  /**
   * REPORT_FUNCTION_NAME: deployed, POST /reports hands its dates to this function; `null`
   * locally, where the run happens in-process.
   */
  readonly reportFunctionName: string | null;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Defaults of the upstream settings; the README's configuration table is tested against these. */
export const DEFAULTS = Object.freeze({
  storage: "file://./reports",
  timeZone: "UTC",
  pageSize: 100,
  concurrency: 10,
  timeoutMs: 30_000,
  maxAttempts: 5,
});

/** Values given on the command line win over the environment. */
export interface ConfigOverrides {
  storage?: string | undefined;
  timeZone?: string | undefined;
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function require(env: Env, name: string, why: string): string {
  const value = read(env, name);
  if (value === undefined) throw new ConfigError(`${name} is required ${why}`);
  return value;
}

function positiveInt(env: Env, name: string, fallback: number, max: number, min = 1): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} "${raw}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

export function parseFailureStatuses(raw: string | undefined, name = "FAILURE_STATUSES"): number[] {
  if (raw === undefined) return [...DEFAULT_FAILURE_STATUSES];
  const parts = raw.split(",").map((p) => p.trim());
  const codes = parts.map((p) => (/^[0-9]{1,4}$/.test(p) ? Number(p) : Number.NaN));
  if (parts.length === 0 || codes.some((c) => Number.isNaN(c))) {
    throw new ConfigError(`${name} "${raw}" is not a comma-separated list of status codes`);
  }
  return [...new Set(codes)].sort((a, b) => a - b);
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** An API base URL: https (http only on loopback, for the simulator), no path, query or credentials. */
export function parseEndpoint(raw: string, name: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} "${raw}" is not a URL`);
  }
  const plainHttpOk = url.protocol === "http:" && LOOPBACK.test(url.hostname);
  if (url.protocol !== "https:" && !plainHttpOk) {
    throw new ConfigError(`${name} must be an https:// URL (http:// only on loopback)`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError(`${name} must not contain credentials`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    throw new ConfigError(`${name} "${url.origin}${url.pathname}" must be a base URL with no path`);
  }
  return url.origin;
}

function parseAuth(env: Env): UpstreamAuth {
  const token = read(env, "MODELARTS_TOKEN");
  const ak = read(env, "MODELARTS_AK");
  const sk = read(env, "MODELARTS_SK");
  const username = read(env, "IAM_USERNAME");
  const secretId = read(env, "MODELARTS_CREDENTIALS_SECRET");
  const chosen = [
    token && "MODELARTS_TOKEN",
    (ak || sk) && "MODELARTS_AK/MODELARTS_SK",
    username && "IAM_USERNAME",
    secretId && "MODELARTS_CREDENTIALS_SECRET",
  ].filter(Boolean);
  if (chosen.length > 1) {
    throw new ConfigError(`choose one way to authenticate, not several: ${chosen.join(", ")}`);
  }
  if (token !== undefined) return { kind: "token", token: new Secret(token) };
  if (ak !== undefined || sk !== undefined) {
    if (ak === undefined || sk === undefined) {
      throw new ConfigError("MODELARTS_AK and MODELARTS_SK must be set together");
    }
    const securityToken = read(env, "MODELARTS_SECURITY_TOKEN");
    return {
      kind: "aksk",
      ak,
      sk: new Secret(sk),
      securityToken: securityToken === undefined ? undefined : new Secret(securityToken),
    };
  }
  if (username !== undefined) {
    const why = "when IAM_USERNAME is set";
    return {
      kind: "iam",
      iamEndpoint: parseEndpoint(require(env, "IAM_ENDPOINT", why), "IAM_ENDPOINT"),
      username,
      password: new Secret(require(env, "IAM_PASSWORD", why)),
      domain: require(env, "IAM_DOMAIN", why),
    };
  }
  if (secretId !== undefined) return { kind: "secret", secretId };
  throw new ConfigError(
    "no ModelArts credentials: set MODELARTS_TOKEN, MODELARTS_AK and MODELARTS_SK, or IAM_USERNAME with IAM_PASSWORD, IAM_DOMAIN and IAM_ENDPOINT",
  );
}

/** In Lambda, but not under serverless-offline (which sets IS_OFFLINE and a function name). */
export function isRunningInAws(env: Env): boolean {
  return (
    read(env, "AWS_LAMBDA_FUNCTION_NAME") !== undefined && read(env, "IS_OFFLINE") === undefined
  );
}

/** Storage, time zone and failure set: what every function needs. */
export function loadBaseConfig(
  env: Env = process.env,
  overrides: ConfigOverrides = {},
): BaseConfig {
  const timeZone = overrides.timeZone ?? read(env, "REPORT_TIMEZONE") ?? DEFAULTS.timeZone;
  if (!isValidTimeZone(timeZone)) {
    throw new ConfigError(`REPORT_TIMEZONE "${timeZone}" is not an IANA time zone`);
  }
  const storage = overrides.storage ?? read(env, "REPORT_STORAGE") ?? DEFAULTS.storage;
  if (isRunningInAws(env) && !storage.startsWith("s3://")) {
    // A file:// root inside a Lambda container would vanish with it.
    throw new ConfigError("REPORT_STORAGE must be an s3:// URL when running in AWS");
  }
  const failureStatuses = parseFailureStatuses(read(env, "FAILURE_STATUSES"));
  return Object.freeze({ storage, timeZone, failureStatuses: Object.freeze(failureStatuses) });
}

/** The report run's configuration: the base, the upstream (or the demo) and the price table. */
export function loadReportConfig(
  env: Env = process.env,
  overrides: ConfigOverrides = {},
): ReportConfig {
  const base = loadBaseConfig(env, overrides);
  const endpoint = read(env, "MODELARTS_ENDPOINT");
  let upstream: UpstreamConfig | null = null;
  if (endpoint === undefined) {
    if (isRunningInAws(env)) {
      throw new ConfigError("MODELARTS_ENDPOINT is required when running in AWS");
    }
  } else {
    upstream = {
      endpoint: parseEndpoint(endpoint, "MODELARTS_ENDPOINT"),
      projectId: require(env, "MODELARTS_PROJECT_ID", "when MODELARTS_ENDPOINT is set"),
      workspaceId: read(env, "MODELARTS_WORKSPACE_ID") ?? null,
      poolId: read(env, "MODELARTS_POOL_ID") ?? null,
      auth: parseAuth(env),
      // Two at least: neighbouring pages share a record, which is how a gap is seen (scan.ts).
      pageSize: positiveInt(env, "MODELARTS_PAGE_SIZE", DEFAULTS.pageSize, 1000, 2),
      concurrency: positiveInt(env, "MODELARTS_CONCURRENCY", DEFAULTS.concurrency, 32),
      timeoutMs: positiveInt(env, "MODELARTS_TIMEOUT_MS", DEFAULTS.timeoutMs, 300_000),
      maxAttempts: positiveInt(env, "MODELARTS_MAX_ATTEMPTS", DEFAULTS.maxAttempts, 20),
    };
  }
  const priceTable = read(env, "PRICE_TABLE") ?? null;
  return Object.freeze({
    ...base,
    upstream: upstream === null ? null : Object.freeze(upstream),
    priceTable,
  });
}

/**
 * The API functions' configuration. It never asks for the upstream: a function that only
 * reads reports must not fail because the report function's settings are not its own.
 */
export function loadApiConfig(env: Env = process.env): ApiConfig {
  const base = loadBaseConfig(env);
  const secretId = read(env, "REPORT_API_TOKEN_SECRET");
  const token = read(env, "REPORT_API_TOKEN");
  let apiToken: ApiTokenSource;
  if (secretId !== undefined) {
    if (token !== undefined) {
      throw new ConfigError("set REPORT_API_TOKEN_SECRET or REPORT_API_TOKEN, not both");
    }
    apiToken = { kind: "secret", secretId };
  } else if (token !== undefined) {
    if (isRunningInAws(env)) {
      // A token in a plain variable would sit in the template and the console.
      throw new ConfigError(
        "REPORT_API_TOKEN is for the local stage only; in AWS set REPORT_API_TOKEN_SECRET",
      );
    }
    apiToken = { kind: "value", token: new Secret(token) };
  } else {
    throw new ConfigError(
      "the API token is not configured: set REPORT_API_TOKEN_SECRET (deployed) or REPORT_API_TOKEN (local stage)",
    );
  }
  return Object.freeze({
    ...base,
    apiToken: Object.freeze(apiToken),
    linkKey: parseLinkKey(env),
    reportFunctionName: read(env, "REPORT_FUNCTION_NAME") ?? null,
  });
}

/** A link key must be long enough that guessing a signature is hopeless. */
const MIN_LINK_KEY_LENGTH = 32;

/** Where the link key comes from (REPORT_LINK_KEY_SECRET or REPORT_LINK_KEY), or `null`. */
export function parseLinkKey(env: Env): ApiTokenSource | null {
  const secretId = read(env, "REPORT_LINK_KEY_SECRET");
  const key = read(env, "REPORT_LINK_KEY");
  if (secretId !== undefined && key !== undefined) {
    throw new ConfigError("set REPORT_LINK_KEY_SECRET or REPORT_LINK_KEY, not both");
  }
  if (secretId !== undefined) return Object.freeze({ kind: "secret", secretId });
  if (isRunningInAws(env)) {
    throw new ConfigError(
      key === undefined
        ? "REPORT_LINK_KEY_SECRET is required when running in AWS"
        : "REPORT_LINK_KEY is for the local stage only; in AWS set REPORT_LINK_KEY_SECRET",
    );
  }
  if (key === undefined) return null;
  if (key.length < MIN_LINK_KEY_LENGTH) {
    throw new ConfigError(`REPORT_LINK_KEY must be at least ${MIN_LINK_KEY_LENGTH} characters`);
  }
  return Object.freeze({ kind: "value", token: new Secret(key) });
}
