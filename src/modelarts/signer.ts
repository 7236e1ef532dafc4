/**
 * Huawei Cloud API Gateway AK/SK signing (`SDK-HMAC-SHA256`), both sides: the client signs,
 * the simulator verifies. Own small implementation on node:crypto because the official SDK
 * core pulls in axios, lodash, moment and log4js (it is used as a test oracle only).
 *
 * Canonical request: METHOD \n URI \n QUERY \n HEADERS \n SIGNEDHEADERS \n hex(sha256(body)).
 * String to sign:    SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(sha256(canonical request)).
 * Signature:         hex(HMAC-SHA256(SK, string to sign)), one HMAC, no key derivation.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

export interface AkSkCredentials {
  ak: string;
  sk: string;
  /** Sent (and signed) as X-Security-Token: temporary credentials need it. */
  securityToken?: string | undefined;
  /** Sent (and signed) as X-Project-Id, for keys not scoped to the project. */
  projectId?: string | undefined;
}

export type VerifyResult = { ok: true; ak: string } | { ok: false; reason: string };

export interface VerifiableRequest {
  method: string;
  /** The path as sent, still percent-encoded (e.g. `new URL(req.url, base).pathname`). */
  path: string;
  query: URLSearchParams;
  /** As node's IncomingMessage.headers gives them: lower-cased names. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const ALGORITHM = "SDK-HMAC-SHA256";
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

/** Returns the headers to add to `req` so that API Gateway accepts it. */
export function signRequest(
  req: SignableRequest,
  creds: AkSkCredentials,
  date: Date,
): Record<string, string> {
  const present = new Set(Object.keys(req.headers).map((name) => name.toLowerCase()));
  // These two are computed here; a stale copy in the request would be sent twice.
  for (const name of ["authorization", "x-sdk-date"]) {
    if (present.has(name)) {
      throw new Error(`signRequest: the request must not carry its own ${name} header`);
    }
  }
  const sdkDate = formatSdkDate(date);
  const added: Record<string, string> = { "X-Sdk-Date": sdkDate };
  if (!present.has("host")) added.host = req.url.host;
  if (creds.securityToken !== undefined && !present.has("x-security-token")) {
    added["X-Security-Token"] = creds.securityToken;
  }
  if (creds.projectId !== undefined && !present.has("x-project-id")) {
    added["X-Project-Id"] = creds.projectId;
  }

  const headers = new Map<string, string>();
  for (const [name, value] of [...Object.entries(req.headers), ...Object.entries(added)]) {
    headers.set(name.toLowerCase(), value);
  }
  const signedHeaders = [...headers.keys()].sort(compareCodeUnits);
  const canonical = canonicalRequest(
    req.method.toUpperCase(),
    req.url.pathname,
    req.url.searchParams,
    signedHeaders.map((name) => [name, headers.get(name) ?? ""]),
    req.body,
  );
  const signature = hmacHex(creds.sk, stringToSign(sdkDate, canonical));
  added.Authorization = `${ALGORITHM} Access=${creds.ak}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
  return added;
}

const AUTHORIZATION_RE =
  /^SDK-HMAC-SHA256\s+Access=([^\s,]+),\s*SignedHeaders=([^\s,]+),\s*Signature=([0-9a-fA-F]{64})$/;

/** Checks a signed request the way API Gateway does; used by the simulator. */
export function verifySignature(
  req: VerifiableRequest,
  lookupSecret: (ak: string) => string | undefined,
  now: Date,
  maxSkewMs: number = DEFAULT_MAX_SKEW_MS,
): VerifyResult {
  const authorization = req.headers.authorization;
  if (typeof authorization !== "string") {
    return { ok: false, reason: "missing Authorization header" };
  }
  const match = AUTHORIZATION_RE.exec(authorization.trim());
  const [, ak, signedHeaderList, signature] = match ?? [];
  if (ak === undefined || signedHeaderList === undefined || signature === undefined) {
    return {
      ok: false,
      reason: `malformed Authorization header, expected "${ALGORITHM} Access=…, SignedHeaders=…, Signature=…"`,
    };
  }

  const signedHeaders = signedHeaderList.split(";");
  // A signer that does not sort lower-cased unique names is buggy; say so rather than
  // failing later with an opaque signature mismatch.
  const wellFormed = signedHeaders.every(
    (name, i) =>
      name !== "" &&
      name === name.toLowerCase() &&
      (i === 0 || compareCodeUnits(signedHeaders[i - 1] ?? "", name) < 0),
  );
  if (!wellFormed) {
    return { ok: false, reason: "SignedHeaders must be lower-case, unique and sorted" };
  }
  for (const required of ["host", "x-sdk-date"]) {
    if (!signedHeaders.includes(required)) {
      return { ok: false, reason: `SignedHeaders must include ${required}` };
    }
  }

  const values: Array<[string, string]> = [];
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    values.push([name, Array.isArray(value) ? value.join(", ") : value]);
  }

  const sdkDate = values.find(([name]) => name === "x-sdk-date")?.[1].trim() ?? "";
  const signedAt = parseSdkDate(sdkDate);
  if (signedAt === undefined) {
    return { ok: false, reason: "X-Sdk-Date is not in the form YYYYMMDDTHHMMSSZ" };
  }
  const skew = Math.abs(now.getTime() - signedAt);
  if (skew > maxSkewMs) {
    return {
      ok: false,
      reason: `X-Sdk-Date ${sdkDate} is ${Math.round(skew / 1000)} s away from the server clock (limit ${Math.round(maxSkewMs / 1000)} s)`,
    };
  }

  const sk = lookupSecret(ak);
  if (sk === undefined) return { ok: false, reason: `unknown AK ${ak}` };

  const canonical = canonicalRequest(
    req.method.toUpperCase(),
    req.path,
    req.query,
    values,
    req.body,
  );
  const expected = Buffer.from(hmacHex(sk, stringToSign(sdkDate, canonical)), "utf8");
  const given = Buffer.from(signature.toLowerCase(), "utf8");
  // Both are 64 hex characters (the regex checked the given one), so lengths match.
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: "signature does not match" };
  }
  return { ok: true, ak };
}

function canonicalRequest(
  method: string,
  rawPath: string,
  query: URLSearchParams,
  headers: ReadonlyArray<readonly [string, string]>,
  body: string,
): string {
  return [
    method,
    canonicalUri(rawPath),
    canonicalQuery(query),
    headers.map(([name, value]) => `${name}:${value.trim()}\n`).join(""),
    headers.map(([name]) => name).join(";"),
    sha256Hex(body),
  ].join("\n");
}

/**
 * The gateway decodes the path it receives and re-encodes each segment, so decode first:
 * otherwise `%20` in the URL would be signed as `%2520`. Always ends in `/` for signing.
 */
function canonicalUri(rawPath: string): string {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // Not valid percent-encoding: sign what is there; the gateway will reject it anyway.
    path = rawPath;
  }
  const uri = path.split("/").map(encodeRfc3986).join("/");
  return uri.endsWith("/") ? uri : `${uri}/`;
}

/**
 * Sorted by the decoded name, then by decoded value for a repeated name (the official
 * signers sort before encoding), in UTF-16 code-unit order like Array#sort.
 */
function canonicalQuery(query: URLSearchParams): string {
  return [...query]
    .sort(([ak, av], [bk, bv]) => compareCodeUnits(ak, bk) || compareCodeUnits(av, bv))
    .map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(value)}`)
    .join("&");
}

/** RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded (UTF-8). */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function stringToSign(sdkDate: string, canonical: string): string {
  return `${ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

/** `YYYYMMDDTHHMMSSZ` in UTC. */
function formatSdkDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError("signRequest: invalid date");
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

function parseSdkDate(value: string): number | undefined {
  if (!/^\d{8}T\d{6}Z$/.test(value)) return undefined;
  const part = (from: number, to: number): number => Number(value.slice(from, to));
  const ms = Date.UTC(
    part(0, 4),
    part(4, 6) - 1,
    part(6, 8),
    part(9, 11),
    part(11, 13),
    part(13, 15),
  );
  // Date.UTC rolls 20240231 over to March; a real date formats back to the same string.
  return formatSdkDate(new Date(ms)) === value ? ms : undefined;
}

/** Plain code-unit order; localeCompare would depend on the ICU build and locale. */
function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

function sha256Hex(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

function hmacHex(key: string, data: string): string {
  return createHmac("sha256", key).update(data, "utf8").digest("hex");
}
