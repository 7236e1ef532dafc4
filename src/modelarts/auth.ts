/**
 * The ways to authenticate a ModelArts call: a ready token, an IAM token fetched with a
 * password (cached until shortly before it expires), or AK/SK request signing.
 * No message or description here ever contains a password, SK or token.
 */
import * as z from "zod";
import { UpstreamError, UpstreamHttpError } from "../shared/errors.js";
import { parseRetryAfter } from "./retry-after.js";
import { type AkSkCredentials, type SignableRequest, signRequest } from "./signer.js";

export interface RequestAuthenticator {
  /** Headers to add to this request (may fetch/cached token). */
  authenticate(req: SignableRequest): Promise<Record<string, string>>;
  /**
   * Called when the API said the credentials in `used` (headers from `authenticate`) are
   * invalid (401, or ModelArts.0203): drop that token, unless a newer one has replaced it
   * already, so any number of concurrent rejections cost one refresh. Returns true when a
   * retry may succeed (a new token can be had).
   */
  invalidate(used: Readonly<Record<string, string>>): boolean;
  /** Short description for logs, no secrets, e.g. "token", "iam-password (user alice)", "aksk (AK ABCD…)". */
  readonly description: string;
}

/** A token given by the operator: nothing to refresh, so a rejected token stays rejected. */
export function staticTokenAuth(token: string): RequestAuthenticator {
  return {
    description: "token",
    authenticate: async () => ({ "X-Auth-Token": token }),
    invalidate: () => false,
  };
}

/** Signs each request; a rejected signature will not get better by signing again. */
export function akskAuth(
  creds: AkSkCredentials,
  clock: () => Date = () => new Date(),
): RequestAuthenticator {
  return {
    // The first characters of an AK identify it in logs without giving it away.
    description: `aksk (AK ${creds.ak.slice(0, 4)}…)`,
    authenticate: async (req) => signRequest(req, creds, clock()),
    invalidate: () => false,
  };
}

export interface IamPasswordAuthOptions {
  /** e.g. `https://iam.eu-de.otc.t-systems.com` (a trailing `/v3` path is not expected). */
  iamEndpoint: string;
  username: string;
  password: string;
  /** The account (domain) name the IAM user belongs to. */
  domain: string;
  projectId: string;
  /** Per IAM call; default 30 s. */
  timeoutMs?: number;
  /** Epoch milliseconds; injectable so tests can move time. */
  clock?: () => number;
  fetch?: typeof fetch;
}

/** Refresh this long before `expires_at`, so a token never runs out mid-scan. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 30_000;
/** IAM error texts are short; cap them so a proxy's HTML page does not flood the logs. */
const MAX_ERROR_TEXT = 300;

const tokenBody = z.object({ token: z.object({ expires_at: z.string() }) });
const iamErrorBody = z.union([
  z.object({
    error: z.object({
      code: z.union([z.string(), z.number()]).optional(),
      message: z.string().optional(),
      title: z.string().optional(),
    }),
  }),
  z.object({ error_code: z.string().optional(), error_msg: z.string().optional() }),
]);

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** One POST to IAM's token route: what it needs, fixed for the authenticator's lifetime. */
interface IamTokenRequest {
  readonly url: URL;
  readonly body: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly clock: () => number;
  /** Kept out of any error text, should IAM echo it. */
  readonly password: string;
}

/** Keeps IAM's own text but never lets the password through, should IAM echo it. */
function safeText(text: string | undefined, password: string): string | undefined {
  if (text === undefined) return undefined;
  const redacted = password === "" ? text : text.split(password).join("***");
  return redacted.length > MAX_ERROR_TEXT ? `${redacted.slice(0, MAX_ERROR_TEXT)}…` : redacted;
}

/** A fresh token from IAM, or an UpstreamError saying why not (retryable where it may pass). */
async function requestIamToken(req: IamTokenRequest): Promise<CachedToken> {
  const { url, timeoutMs } = req;
  const where = `POST ${url.href}`;
  let response: Response;
  let text: string;
  try {
    response = await req.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json;charset=utf8", accept: "application/json" },
      body: req.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === "TimeoutError";
    const reason = timedOut
      ? `no answer within ${timeoutMs} ms`
      : `the connection failed (${cause instanceof Error ? cause.message : String(cause)})`;
    throw new UpstreamError(`${where}: ${reason}`, { retryable: true, cause });
  }

  const requestId = response.headers.get("x-request-id") ?? undefined;
  if (!response.ok) {
    const { errorCode, errorMessage } = parseIamError(text);
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"), req.clock());
    throw new UpstreamHttpError(
      {
        method: "POST",
        url: url.href,
        status: response.status,
        errorCode: safeText(errorCode, req.password),
        errorMessage: safeText(errorMessage, req.password),
        requestId,
        retryAfterSeconds: retryAfter,
      },
      // Bad credentials or scope will not fix themselves; overload and outages may.
      {
        retryable: response.status >= 500 || response.status === 429 || response.status === 408,
      },
    );
  }

  const token = response.headers.get("x-subject-token");
  if (token === null || token === "") {
    throw new UpstreamError(
      `${where} answered HTTP ${response.status} without an X-Subject-Token header`,
      { retryable: false },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    // Most likely cut off on the way; asking again may help.
    throw new UpstreamError(
      `${where} answered HTTP ${response.status} with a body that is not JSON (${text.length} characters)`,
      { retryable: true, cause },
    );
  }
  const parsed = tokenBody.safeParse(json);
  const expiresAt = parsed.success ? Date.parse(parsed.data.token.expires_at) : Number.NaN;
  if (Number.isNaN(expiresAt)) {
    throw new UpstreamError(
      `${where} answered HTTP ${response.status} without a valid token.expires_at in its body`,
      { retryable: false },
    );
  }
  return { token, expiresAt };
}

/** An IAM user token (password grant, project scope), cached and shared by concurrent callers. */
export function iamPasswordAuth(opts: IamPasswordAuthOptions): RequestAuthenticator {
  const clock = opts.clock ?? Date.now;
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const url = new URL(`${opts.iamEndpoint.replace(/\/+$/, "")}/v3/auth/tokens`);
  // Errors carry the URL; make sure it cannot carry credentials.
  url.username = "";
  url.password = "";
  const requestBody = JSON.stringify({
    auth: {
      identity: {
        methods: ["password"],
        password: {
          user: { name: opts.username, password: opts.password, domain: { name: opts.domain } },
        },
      },
      scope: { project: { id: opts.projectId } },
    },
  });

  const request: IamTokenRequest = {
    url,
    body: requestBody,
    fetch: doFetch,
    timeoutMs,
    clock,
    password: opts.password,
  };
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;
  // Bumped by invalidate(), so a fetch that started before it cannot re-cache its token.
  let generation = 0;

  const isFresh = (entry: CachedToken | undefined): entry is CachedToken =>
    entry !== undefined && clock() < entry.expiresAt - REFRESH_MARGIN_MS;

  async function currentToken(): Promise<string> {
    if (isFresh(cached)) return cached.token;
    if (inFlight === undefined) {
      const startedIn = generation;
      const pending = requestIamToken(request).then((entry) => {
        if (startedIn === generation) cached = entry;
        return entry;
      });
      inFlight = pending;
      // Clear the slot whatever happens, so a failed fetch is not shared by later callers.
      const clear = (): void => {
        if (inFlight === pending) inFlight = undefined;
      };
      pending.then(clear, clear);
    }
    return (await inFlight).token;
  }

  return {
    description: `iam-password (user ${opts.username})`,
    authenticate: async () => ({ "X-Auth-Token": await currentToken() }),
    invalidate: (used) => {
      const rejected = used["X-Auth-Token"];
      // Drop the token only if it is the one rejected: a rejection of an older token (another
      // request already had it refreshed) just retries with the current one, and a refresh in
      // flight is shared by everyone waiting for it.
      if (cached !== undefined && cached.token === rejected) {
        cached = undefined;
        generation += 1;
      }
      return true;
    },
  };
}

/** IAM answers `{"error":{code,message,title}}`; other gateways `{error_code,error_msg}`. */
function parseIamError(text: string): { errorCode?: string; errorMessage?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  const parsed = iamErrorBody.safeParse(json);
  if (!parsed.success) return {};
  const body = parsed.data;
  if ("error" in body) {
    const { code, message, title } = body.error;
    // A numeric code just repeats the HTTP status; the title says more.
    const errorCode = typeof code === "string" ? code : title;
    return {
      ...(errorCode === undefined ? {} : { errorCode }),
      ...(message === undefined ? {} : { errorMessage: message }),
    };
  }
  return {
    ...(body.error_code === undefined ? {} : { errorCode: body.error_code }),
    ...(body.error_msg === undefined ? {} : { errorMessage: body.error_msg }),
  };
}
