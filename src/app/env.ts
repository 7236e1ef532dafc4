import { ConfigError } from "../shared/errors.js";
import { Secret } from "../shared/secret.js";

/**
 * Reading settings from the environment: the primitives every configuration uses, the
 * upstream's endpoint and credentials (report.md §6), and their types. Every bad value fails
 * fast with one line naming the variable; secrets are wrapped in `Secret`.
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

export type Env = Readonly<Record<string, string | undefined>>;

export function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

export function require(env: Env, name: string, why: string): string {
  const value = read(env, name);
  if (value === undefined) throw new ConfigError(`${name} is required ${why}`);
  return value;
}

export function positiveInt(
  env: Env,
  name: string,
  fallback: number,
  max: number,
  min = 1,
): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} "${raw}" is not a whole number from ${min} to ${max}`);
  }
  return n;
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

/** Whether any credential variable is set under `prefix` (`""`, or `PREFIX_` for env:PREFIX). */
export function hasCredentials(env: Env, prefix = ""): boolean {
  return [
    "MODELARTS_TOKEN",
    "MODELARTS_AK",
    "MODELARTS_SK",
    "IAM_USERNAME",
    "MODELARTS_CREDENTIALS_SECRET",
  ].some((name) => read(env, `${prefix}${name}`) !== undefined);
}

/**
 * The upstream credentials from the variables (report.md §6); with a prefix (`PREFIX_`, a
 * source's `env:PREFIX`, §10) the same variables under that prefix.
 */
export function parseAuth(env: Env, prefix = ""): UpstreamAuth {
  const name = (n: string) => `${prefix}${n}`;
  const token = read(env, name("MODELARTS_TOKEN"));
  const ak = read(env, name("MODELARTS_AK"));
  const sk = read(env, name("MODELARTS_SK"));
  const username = read(env, name("IAM_USERNAME"));
  const secretId = read(env, name("MODELARTS_CREDENTIALS_SECRET"));
  const chosen = [
    token && name("MODELARTS_TOKEN"),
    (ak || sk) && `${name("MODELARTS_AK")}/${name("MODELARTS_SK")}`,
    username && name("IAM_USERNAME"),
    secretId && name("MODELARTS_CREDENTIALS_SECRET"),
  ].filter(Boolean);
  if (chosen.length > 1) {
    throw new ConfigError(`choose one way to authenticate, not several: ${chosen.join(", ")}`);
  }
  if (token !== undefined) return { kind: "token", token: new Secret(token) };
  if (ak !== undefined || sk !== undefined) {
    if (ak === undefined || sk === undefined) {
      throw new ConfigError(
        `${name("MODELARTS_AK")} and ${name("MODELARTS_SK")} must be set together`,
      );
    }
    const securityToken = read(env, name("MODELARTS_SECURITY_TOKEN"));
    return {
      kind: "aksk",
      ak,
      sk: new Secret(sk),
      securityToken: securityToken === undefined ? undefined : new Secret(securityToken),
    };
  }
  if (username !== undefined) {
    const why = `when ${name("IAM_USERNAME")} is set`;
    return {
      kind: "iam",
      iamEndpoint: parseEndpoint(require(env, name("IAM_ENDPOINT"), why), name("IAM_ENDPOINT")),
      username,
      password: new Secret(require(env, name("IAM_PASSWORD"), why)),
      domain: require(env, name("IAM_DOMAIN"), why),
    };
  }
  if (secretId !== undefined) return { kind: "secret", secretId };
  throw new ConfigError(
    `no ModelArts credentials: set ${name("MODELARTS_TOKEN")}, ${name("MODELARTS_AK")} and ${name("MODELARTS_SK")}, or ${name("IAM_USERNAME")} with ${name("IAM_PASSWORD")}, ${name("IAM_DOMAIN")} and ${name("IAM_ENDPOINT")}`,
  );
}

/** In Lambda, but not under serverless-offline (which sets IS_OFFLINE and a function name). */
export function isRunningInAws(env: Env): boolean {
  return (
    read(env, "AWS_LAMBDA_FUNCTION_NAME") !== undefined && read(env, "IS_OFFLINE") === undefined
  );
}
