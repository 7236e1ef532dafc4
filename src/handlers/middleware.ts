import middy, { type MiddlewareObj } from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import httpSecurityHeaders from "@middy/http-security-headers";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type ApiResponse, acceptQuality, errorResponse, PAGE_CSP } from "../api/http.js";
import type { LinkTarget } from "../api/links.js";
import { requireLabel } from "../api/reports.js";
import { renderRefusalHtml } from "../report/render-pages.js";
import { ConfigError, HttpError } from "../shared/errors.js";
import {
  type Access,
  accessOf,
  authenticate,
  LinkRefusedError,
  type LinkTargetOf,
} from "./auth.js";
import { logger } from "./runtime.js";

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export function toApiGateway(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.status, headers: response.headers, body: response.body };
}

/**
 * Errors become the JSON body of report.md §7. An HttpError says what the caller did wrong;
 * anything else is logged and answered with a generic 500, never a stack trace or a detail.
 */
export function jsonErrors(): HttpMiddleware {
  return {
    onError: (request) => {
      const error = request.error;
      if (error instanceof LinkRefusedError && !prefersJson(request.event.headers?.accept)) {
        // A person followed the link: a page that says what happened, not a JSON error.
        request.response = {
          statusCode: 403,
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": PAGE_CSP,
            "cache-control": "no-store",
          },
          body: renderRefusalHtml(error.refusal, error.message),
        };
        return;
      }
      if (error instanceof HttpError) {
        if (error.status >= 500) logger.error(error.message, { code: error.code });
        request.response = toApiGateway(errorResponse(error));
        return;
      }
      if (error instanceof ConfigError) {
        // The operator's fault, not the caller's: the log says what to fix, the answer not.
        logger.error("the function is not configured correctly", { reason: error.message });
        request.response = toApiGateway(
          errorResponse(
            new HttpError(500, "not_configured", "the service is not configured correctly"),
          ),
        );
        return;
      }
      logger.error("request failed", { error: error instanceof Error ? error : String(error) });
      request.response = toApiGateway(
        errorResponse(new HttpError(500, "internal_error", "the request could not be completed")),
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
        throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
      }
      // API Gateway leaves `body` out when there is none; serverless-offline sends null.
      if (body === undefined || body === null || body === "") {
        throw new HttpError(400, "invalid_json", "the body is missing or is not valid JSON");
      }
      const bytes = isBase64Encoded ? Buffer.from(body, "base64").length : Buffer.byteLength(body);
      if (bytes > MAX_BODY_BYTES) {
        throw new HttpError(
          413,
          "body_too_large",
          `the body is larger than ${MAX_BODY_BYTES} bytes`,
        );
      }
      try {
        await parser.before?.(request);
      } catch (error) {
        if (isClientHttpError(error)) {
          throw new HttpError(400, "invalid_json", "the body is missing or is not valid JSON");
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

/** Whether the client asked for JSON over HTML (a script); a browser's Accept prefers HTML. */
function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return acceptQuality(accept, "application/json") > acceptQuality(accept, "text/html");
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

export interface HttpHandlerOptions {
  /** Parse a JSON body (POST routes). */
  readonly jsonBody?: boolean;
  /** What the route serves, if a signed link may open it (GET routes). */
  readonly linkTarget?: LinkTargetOf;
}

/**
 * The middy chain every route shares: header normalisation, security headers, JSON errors and
 * bearer-token auth, in that order, so that an auth failure is shaped and secured like any other
 * answer; then, for POST routes, the JSON body.
 */
export function httpHandler(
  handler: (
    event: APIGatewayProxyEventV2,
    access: Access,
  ) => Promise<APIGatewayProxyStructuredResultV2>,
  options: HttpHandlerOptions = {},
) {
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
    .use(authenticate({ linkTarget: options.linkTarget }));
  // After the auth check: a caller without the token learns nothing about body rules.
  if (options.jsonBody === true) chain.use(jsonBody());
  return chain.handler((event) => handler(event, accessOf(event)));
}

export function pathParam(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined) throw new HttpError(404, "not_found", "no such route");
  return value;
}

/**
 * What a route with a `{date}` parameter serves, for a signed link: the latest report, or one
 * day (a malformed date is the route's own 400).
 */
export function dateTarget(event: APIGatewayProxyEventV2): LinkTarget {
  const date = pathParam(event, "date");
  if (date === "latest") return { kind: "latest" };
  return { kind: "day", date: requireLabel("day", date) };
}

/** What a download route serves, for a signed link: its period's target and the file. */
export function withFile(targetOf: (event: APIGatewayProxyEventV2) => LinkTarget) {
  return (event: APIGatewayProxyEventV2): LinkTarget => {
    const target = targetOf(event);
    return target.kind === "day" || target.kind === "month"
      ? { ...target, file: pathParam(event, "name") }
      : target;
  };
}

/** What a route with a `{month}` parameter serves, for a signed link. */
export function monthTarget(event: APIGatewayProxyEventV2): LinkTarget {
  const month = pathParam(event, "month");
  if (month === "latest") return { kind: "latest-month" };
  return { kind: "month", month: requireLabel("month", month) };
}
