import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import {
  matchRoute as matchTableRoute,
  ROUTE_LIST,
  type RouteKey,
  routeKey,
} from "../../src/api/routes.js";

/**
 * API Gateway HTTP API (payload format 2.0) events as API Gateway builds them, and a Lambda
 * context. The context is the one fake in these tests: nothing real can run Lambda here.
 *
 * What is copied from API Gateway's behaviour:
 * - header names are lower-cased, repeated headers are joined with `,`; `cookie` headers
 *   move to `cookies` (split on `; `) and leave `headers`;
 * - `rawPath` and `rawQueryString` are what the client sent, still percent-encoded;
 * - `queryStringParameters` are decoded, repeated keys joined with `,`, absent without a query;
 * - `pathParameters` are decoded (so `..%2F..%2Fx` arrives as `../../x`), absent on a route
 *   without parameters; a value that is not valid percent-encoding stays as sent;
 * - `body` is absent without one; binary bodies arrive base64-encoded with `isBase64Encoded`.
 */

/** The routes of serverless.yml, as API Gateway route keys: the API's route table. */
export const ROUTE_KEYS: readonly RouteKey[] = ROUTE_LIST.map(routeKey);

export type { RouteKey };

export interface RouteMatch {
  routeKey: RouteKey;
  /** Decoded, as API Gateway passes them. */
  pathParameters: Record<string, string>;
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * The route API Gateway would pick for `method` and the still-encoded `rawPath` (the route
 * table's own matching), or `undefined` (API Gateway then answers 404 itself). A `{param}`
 * matches one whole segment.
 */
export function matchRoute(method: string, rawPath: string): RouteMatch | undefined {
  const match = matchTableRoute(method, rawPath);
  if (match === undefined) return undefined;
  const pathParameters = Object.fromEntries(
    Object.entries(match.params).map(([name, raw]) => [name, decodeParam(raw)]),
  );
  return { routeKey: routeKey(match.route), pathParameters };
}

/** `a=1&a=2&b=%20` → `{a: "1,2", b: " "}`, or `undefined` for an empty query. */
export function parseQueryString(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === "") return undefined;
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    const seen = params.get(key);
    params.set(key, seen === undefined ? value : `${seen},${value}`);
  }
  // fromEntries makes own properties, so a key like `__proto__` stays data (as in JSON.parse).
  return params.size === 0 ? undefined : Object.fromEntries(params);
}

export type HeaderInput = Record<string, string | readonly string[] | undefined>;

/** Lower-cased names, repeats joined with `,`, cookies split out. */
export function normalizeHeaders(input: HeaderInput): {
  headers: Record<string, string>;
  cookies: string[] | undefined;
} {
  const joined = new Map<string, string[]>();
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const list = joined.get(key) ?? [];
    list.push(...(typeof value === "string" ? [value] : value));
    joined.set(key, list);
  }
  const cookieValues = joined.get("cookie");
  joined.delete("cookie");
  const headers = Object.fromEntries([...joined].map(([key, values]) => [key, values.join(",")]));
  const cookies = cookieValues?.flatMap((value) => value.split(/;\s*/)).filter((c) => c !== "");
  return { headers, cookies: cookies?.length ? cookies : undefined };
}

const TEXT_TYPES =
  /^(text\/|application\/(?:[\w.-]+\+)?(json|xml)|application\/(javascript|x-www-form-urlencoded))/i;

export interface EventInput {
  method?: string;
  /** The request target as sent: a still-encoded path, optionally with `?query`. */
  url: string;
  headers?: HeaderInput;
  body?: string | Buffer | undefined;
  /**
   * Send the body base64-encoded. By default, as API Gateway does, only a body whose
   * content type is not textual is encoded.
   */
  base64?: boolean;
  sourceIp?: string;
  /** Route and parameters to use instead of matching `url` (to reach a handler directly). */
  route?: RouteMatch;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** API Gateway's `requestContext.time`: `28/Nov/2026:00:30:00 +0000`. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/**
 * The event API Gateway would hand the Lambda function for this request. Throws when no
 * route matches and none is given: such a request never reaches a function.
 */
export function apiGatewayEvent(input: EventInput): APIGatewayProxyEventV2 {
  const method = (input.method ?? "GET").toUpperCase();
  const queryAt = input.url.indexOf("?");
  const rawPath = queryAt === -1 ? input.url : input.url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? "" : input.url.slice(queryAt + 1);
  const route = input.route ?? matchRoute(method, rawPath);
  if (route === undefined) throw new Error(`no route for ${method} ${rawPath}`);
  const { headers, cookies } = normalizeHeaders(input.headers ?? {});
  const now = Date.now();
  const requestId = randomUUID();
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "r3pap1",
      domainName: "r3pap1.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "r3pap1",
      http: {
        method,
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: input.sourceIp ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: route.routeKey,
      stage: "$default",
      time: clfTime(now),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
  if (cookies !== undefined) event.cookies = cookies;
  const query = parseQueryString(rawQueryString);
  if (query !== undefined) event.queryStringParameters = query;
  if (Object.keys(route.pathParameters).length > 0) event.pathParameters = route.pathParameters;
  const body = input.body === undefined ? undefined : Buffer.from(input.body);
  if (body !== undefined && body.length > 0) {
    const encode = input.base64 ?? !TEXT_TYPES.test(headers["content-type"] ?? "");
    event.body = encode ? body.toString("base64") : body.toString("utf8");
    event.isBase64Encoded = encode;
  }
  return event;
}

/** A Lambda context for one invocation, with `getRemainingTimeInMillis` counting down. */
export function lambdaContext(
  functionName = "modelarts-usage-report-test-api",
  timeoutMs = 29_000,
): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/11/28/[$LATEST]${requestId.replace(/-/g, "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
