import { DEFAULT_FAILURE_STATUSES } from "../modelarts/statuses.js";
import { type Budget, budgetsDocument } from "../report/budgets.js";
import { isValidTimeZone } from "../report/time.js";
import { ConfigError } from "../shared/errors.js";
import { Secret } from "../shared/secret.js";
import {
  type Env,
  isRunningInAws,
  parseAuth,
  parseEndpoint,
  positiveInt,
  read,
  require,
  type UpstreamConfig,
} from "./env.js";
import { parseSourcesDocument, type SourceConfig } from "./sources.js";

export {
  type Env,
  hasCredentials,
  isRunningInAws,
  parseAuth,
  parseEndpoint,
  type UpstreamAuth,
  type UpstreamConfig,
} from "./env.js";

/**
 * Configuration, read once from the environment (report.md §6, §10) into a typed, frozen
 * object. Every bad value fails fast with one line naming the variable. Secrets are wrapped
 * in `Secret` so that printing the config never shows them. The primitives and the upstream's
 * credentials are env.ts's, the sources' document is sources.ts's.
 */

/** What every function and command reads: where reports live and how a day is counted. */
export interface BaseConfig {
  readonly storage: string;
  readonly timeZone: string;
  /** Sorted ascending, no duplicates. */
  readonly failureStatuses: readonly number[];
}

/**
 * Where the versions come from (report.md §10): the built-in demo (no endpoint and no
 * REPORT_SOURCES; never in AWS), the sources listed (REPORT_SOURCES inline, or the MODELARTS_*
 * settings as one source named `default`), or a document to read at run time (a file:// or
 * s3:// REPORT_SOURCES), parsed by `parse` with the same environment.
 */
export type SourcesSetting =
  | { readonly kind: "demo" }
  | { readonly kind: "listed"; readonly sources: readonly SourceConfig[] }
  | {
      readonly kind: "document";
      readonly location: string;
      readonly parse: (text: string) => readonly SourceConfig[];
    };

/** REPORT_BUDGETS (report.md §11): none, listed inline, or a document read at run time. */
export type BudgetsSetting =
  | { readonly kind: "none" }
  | { readonly kind: "listed"; readonly budgets: readonly Budget[] }
  | { readonly kind: "document"; readonly location: string };

/** The report run (CLI, scheduled function, local regeneration): the upstream and prices too. */
export interface ReportConfig extends BaseConfig {
  readonly budgets: BudgetsSetting;
  readonly sources: SourcesSetting;
  /** REPORT_MAX_IN_FLIGHT: listing requests in flight at once across every source. */
  readonly maxInFlight: number;
  /** PRICE_TABLE: a JSON file or an s3:// object with prices for `cost`; `null` for none. */
  readonly priceTable: string | null;
}

/** Where the API's bearer token comes from. */
export type ApiTokenSource =
  /** Deployed: a Secrets Manager secret, read at run time (REPORT_API_TOKEN_SECRET). */
  | { readonly kind: "secret"; readonly secretId: string }
  /** The local stage only (REPORT_API_TOKEN). */
  | { readonly kind: "value"; readonly token: Secret };

/** The HTTP API functions: no upstream, no prices; the token and, deployed, the state machine. */
export interface ApiConfig extends BaseConfig {
  readonly apiToken: ApiTokenSource;
  /**
   * The key that signs links (REPORT_LINK_KEY_SECRET deployed, REPORT_LINK_KEY locally);
   * `null` when none is set (locally only): then no link is made or accepted.
   */
  readonly linkKey: ApiTokenSource | null;
  /**
   * REPORT_STATE_MACHINE_ARN: deployed, POST /reports starts an execution of this state
   * machine (the run's steps); `null` locally, where the run happens in-process.
   */
  readonly reportStateMachineArn: string | null;
}

/** Defaults of the upstream settings; the README's configuration table is tested against these. */
export const DEFAULTS = Object.freeze({
  storage: "file://./reports",
  timeZone: "UTC",
  pageSize: 100,
  concurrency: 10,
  timeoutMs: 30_000,
  maxAttempts: 5,
  // 8 sources at the default concurrency (10) overlap fully (bench: 1.1× the slowest alone).
  maxInFlight: 96,
});

/** Values given on the command line win over the environment. */
export interface ConfigOverrides {
  storage?: string | undefined;
  timeZone?: string | undefined;
}

/**
 * A budgets document (§11): `{"budgets": [...]}`, names unique; a cost budget needs a price
 * table. ConfigError naming where and what, at start.
 */
export function parseBudgets(text: string, where: string, priced: boolean): Budget[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${where} is not JSON (a {"budgets": [...]} object is expected)`);
  }
  const parsed = budgetsDocument.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join(".") ?? "";
    throw new ConfigError(
      `${where}: ${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid"}`,
    );
  }
  const seen = new Set<string>();
  for (const b of parsed.data.budgets) {
    if (seen.has(b.name))
      throw new ConfigError(`${where}: the budget name "${b.name}" is used twice`);
    seen.add(b.name);
    if (b.metric === "cost" && !priced) {
      throw new ConfigError(`${where}: budget "${b.name}" is on cost, which needs PRICE_TABLE`);
    }
  }
  return parsed.data.budgets;
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

/** The report run's configuration: the base, the sources (or the demo) and the price table. */
export function loadReportConfig(
  env: Env = process.env,
  overrides: ConfigOverrides = {},
): ReportConfig {
  const base = loadBaseConfig(env, overrides);
  const priceTable = read(env, "PRICE_TABLE") ?? null;
  const maxInFlight = positiveInt(env, "REPORT_MAX_IN_FLIGHT", DEFAULTS.maxInFlight, 256);
  const budgetsRaw = read(env, "REPORT_BUDGETS");
  const budgets: BudgetsSetting =
    budgetsRaw === undefined
      ? { kind: "none" }
      : /^(file|s3):\/\//.test(budgetsRaw)
        ? { kind: "document", location: budgetsRaw }
        : {
            kind: "listed",
            budgets: parseBudgets(budgetsRaw, "REPORT_BUDGETS", priceTable !== null),
          };
  return Object.freeze({
    ...base,
    budgets: Object.freeze(budgets),
    sources: Object.freeze(sourcesSetting(env)),
    maxInFlight,
    priceTable,
  });
}

/** The paging settings every source shares (MODELARTS_PAGE_SIZE and the rest). */
export function pagingOf(
  env: Env,
): Pick<UpstreamConfig, "pageSize" | "concurrency" | "timeoutMs" | "maxAttempts"> {
  return {
    // Two at least: neighbouring pages share a record, which is how a gap is seen (scan.ts).
    pageSize: positiveInt(env, "MODELARTS_PAGE_SIZE", DEFAULTS.pageSize, 1000, 2),
    concurrency: positiveInt(env, "MODELARTS_CONCURRENCY", DEFAULTS.concurrency, 32),
    timeoutMs: positiveInt(env, "MODELARTS_TIMEOUT_MS", DEFAULTS.timeoutMs, 300_000),
    maxAttempts: positiveInt(env, "MODELARTS_MAX_ATTEMPTS", DEFAULTS.maxAttempts, 20),
  };
}

function sourcesSetting(env: Env): SourcesSetting {
  const raw = read(env, "REPORT_SOURCES");
  const endpoint = read(env, "MODELARTS_ENDPOINT");
  if (raw !== undefined) {
    if (endpoint !== undefined) {
      throw new ConfigError(
        "set REPORT_SOURCES or MODELARTS_ENDPOINT, not both (a source names its own endpoint)",
      );
    }
    const paging = pagingOf(env);
    const inAws = isRunningInAws(env);
    const parse = (text: string, where: string) =>
      parseSourcesDocument(text, where, { env, paging, inAws });
    if (/^(file|s3):\/\//.test(raw)) {
      return { kind: "document", location: raw, parse: (text) => parse(text, raw) };
    }
    return { kind: "listed", sources: parse(raw, "REPORT_SOURCES") };
  }
  if (endpoint === undefined) {
    if (isRunningInAws(env)) {
      throw new ConfigError("MODELARTS_ENDPOINT or REPORT_SOURCES is required when running in AWS");
    }
    return { kind: "demo" };
  }
  const upstream: UpstreamConfig = {
    endpoint: parseEndpoint(endpoint, "MODELARTS_ENDPOINT"),
    projectId: require(env, "MODELARTS_PROJECT_ID", "when MODELARTS_ENDPOINT is set"),
    workspaceId: read(env, "MODELARTS_WORKSPACE_ID") ?? null,
    poolId: read(env, "MODELARTS_POOL_ID") ?? null,
    auth: parseAuth(env),
    ...pagingOf(env),
  };
  const allWorkspaces = upstream.workspaceId === "*";
  return {
    kind: "listed",
    sources: [
      Object.freeze({
        name: "default",
        allWorkspaces,
        upstream: Object.freeze(allWorkspaces ? { ...upstream, workspaceId: null } : upstream),
      }),
    ],
  };
}

/**
 * The API functions' configuration. It never asks for the upstream: a function that only
 * reads reports must not fail because the run's settings are not its own.
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
    reportStateMachineArn: read(env, "REPORT_STATE_MACHINE_ARN") ?? null,
  });
}

/** A link key must be long enough that guessing a signature is hopeless. */
const MIN_LINK_KEY_LENGTH = 32;

/**
 * The link key's bytes: the secret's value (read now) or the variable's, trimmed (a value
 * filled from a file often ends in a newline); ConfigError when it is too short to sign with.
 */
export async function linkKeyBytes(
  source: ApiTokenSource,
  fetchSecret: (secretId: string) => Promise<string>,
): Promise<Buffer> {
  const key = (
    source.kind === "secret" ? await fetchSecret(source.secretId) : source.token.reveal()
  ).trim();
  if (key.length < MIN_LINK_KEY_LENGTH) {
    throw new ConfigError(`the link key is shorter than ${MIN_LINK_KEY_LENGTH} characters`);
  }
  return Buffer.from(key, "utf8");
}

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

/** Where a run's digest and alerts go (report.md §11), and how its links are made. */
export interface NotifyConfig {
  /** REPORT_TOPIC_ARN: the stack's SNS topic; `null`: nothing is sent. */
  readonly topicArn: string | null;
  /** REPORT_API_URL and the link key: the digest's link to the day's page; `null`: none. */
  readonly links: { readonly apiUrl: string; readonly key: ApiTokenSource } | null;
}

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$/;

/** The notification settings of Publish and RecordFailure; ConfigError naming what is wrong. */
export function loadNotifyConfig(env: Env = process.env): NotifyConfig {
  const topicArn = read(env, "REPORT_TOPIC_ARN") ?? null;
  if (topicArn !== null && !TOPIC_ARN.test(topicArn)) {
    throw new ConfigError("REPORT_TOPIC_ARN is not the ARN of a standard SNS topic");
  }
  const apiUrl = read(env, "REPORT_API_URL") ?? null;
  if (apiUrl === null) return Object.freeze({ topicArn, links: null });
  if (!/^https?:\/\/[^/?#\s]+\/?$/.test(apiUrl) || !URL.canParse(apiUrl)) {
    throw new ConfigError("REPORT_API_URL must be the API's http(s) URL, with no path");
  }
  const key = parseLinkKey(env);
  if (key === null) {
    throw new ConfigError("REPORT_API_URL is set: the digest's link needs the link key too");
  }
  return Object.freeze({ topicArn, links: Object.freeze({ apiUrl, key }) });
}
