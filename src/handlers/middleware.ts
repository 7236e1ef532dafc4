import middy, { type MiddlewareObj } from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import httpSecurityHeaders from "@middy/http-security-headers";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type ApiResponse, toHttp } from "../api/http.js";
import { type Route, requireParam, targetOf } from "../api/routes.js";
import { RequestError } from "../shared/errors.js";
import { type Access, accessOf, authenticate } from "./auth.js";
import { logger } from "./runtime.js";

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export function toApiGateway(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.status, headers: response.headers, body: response.body };
}

/**
 * Errors become the answers of report.md §7 through the one mapping, `toHttp`: what the
 * caller did wrong says so; anything else is logged and answered with a generic 5xx.
 */
export function jsonErrors(): HttpMiddleware {
  return {
    onError: (request) => {
      request.response = toApiGateway(
        toHttp(request.error, { accept: request.event.headers?.accept, log: logger }),
      );
    },
  };
}

/** The largest POST body taken; larger ones get 413 before they are parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i;

/**
 * A JSON body: 415 unless the content type is JSON, 413 over MAX_BODY_BYTES, then
 * `@middy/http-json-body-parser` parses it into `event.body`. The content type is checked
 * here, so every error the parser raises is about the body itself (missing or malformed): it
 * is mapped by its HTTP status to 400 `invalid_json` (the parser reports both as 415).
 */
export function jsonBody(): HttpMiddleware {
  // `disableContentTypeCheck` is in the middleware (v6) but not in its type declarations.
  const options = { disableContentTypeCheck: true, disableContentTypeError: false };
  const parser = httpJsonBodyParser(options);
  return {
    before: async (request) => {
      const { headers, body, isBase64Encoded } = request.event;
      if (!JSON_TYPE.test(headers?.["content-type"] ?? "")) {
        throw new RequestError("send the body as application/json", {
          code: "unsupported_media_type",
        });
      }
      // API Gateway leaves `body` out when there is none; serverless-offline sends null.
      if (body === undefined || body === null || body === "") {
        throw new RequestError("the body is missing or is not valid JSON", {
          code: "invalid_json",
        });
      }
      const bytes = isBase64Encoded ? Buffer.from(body, "base64").length : Buffer.byteLength(body);
      if (bytes > MAX_BODY_BYTES) {
        throw new RequestError(`the body is larger than ${MAX_BODY_BYTES} bytes`, {
          code: "body_too_large",
        });
      }
      try {
        await parser.before?.(request);
      } catch (error) {
        if (isClientHttpError(error)) {
          throw new RequestError("the body is missing or is not valid JSON", {
            code: "invalid_json",
            cause: error,
          });
        }
        throw error;
      }
    },
  };
}

/** middy's own HTTP errors (`@middy/util` createError) carry a numeric 4xx `statusCode`. */
function isClientHttpError(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("statusCode" in error)) return false;
  const status = error.statusCode;
  return typeof status === "number" && status >= 400 && status < 500;
}

/** Every answer is private: reports are not for shared caches, whoever asked. */
function privateCaching(): HttpMiddleware {
  const mark = (response: APIGatewayProxyStructuredResultV2 | undefined) => {
    if (response === undefined) return;
    const headers = { ...(response.headers ?? {}) };
    const current = headers["cache-control"];
    if (current === undefined) headers["cache-control"] = "private, no-store";
    else if (!/\bprivate\b/.test(String(current))) headers["cache-control"] = `private, ${current}`;
    response.headers = headers;
  };
  return {
    after: (request) => mark(request.response ?? undefined),
    onError: (request) => mark(request.response ?? undefined),
  };
}

/**
 * The middy chain every route shares: header normalisation, security headers, JSON errors and
 * bearer-token auth, in that order, so that an auth failure is shaped and secured like any other
 * answer; then, for a POST route, the JSON body. What a signed link must open to reach the
 * route, and whether it takes a body, come from its entry in the route table.
 */
export function httpHandler(
  route: Route,
  handler: (
    event: APIGatewayProxyEventV2,
    access: Access,
  ) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  const opens = route.opens;
  const chain = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpHeaderNormalizer())
    .use(
      httpSecurityHeaders({
        // The pages set their own Content-Security-Policy (PAGE_CSP): middy's default adds
        // upgrade-insecure-requests, which breaks the page's links on the http://localhost of
        // `npm run dev`, and a bare sandbox, which blocks its downloads.
        contentSecurityPolicy: false,
        // Deprecated headers, and Report-To without an endpoint.
        reportTo: false,
        xssProtection: false,
      }),
    )
    .use(privateCaching())
    .use(jsonErrors())
    .use(
      authenticate({
        linkTarget:
          opens === undefined ? undefined : (event) => targetOf(opens, event.pathParameters),
      }),
    );
  // After the auth check: a caller without the token learns nothing about body rules.
  if (route.method === "POST") chain.use(jsonBody());
  return chain.handler((event) => handler(event, accessOf(event)));
}

/** A path parameter of the route; 404 without it. */
export function pathParam(event: APIGatewayProxyEventV2, name: string): string {
  return requireParam(event.pathParameters, name);
}
