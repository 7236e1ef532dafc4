import { createHash, timingSafeEqual } from "node:crypto";
import middy, { type MiddlewareObj } from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import httpSecurityHeaders from "@middy/http-security-headers";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type ApiResponse, errorResponse } from "../lib/api/http.js";
import { HttpError } from "../lib/errors.js";
import { apiToken, logger } from "./runtime.js";

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export function toApiGateway(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.status, headers: response.headers, body: response.body };
}

/** Compares digests so that neither the content nor the length of the token leaks by timing. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

const CHALLENGE = { "www-authenticate": "Bearer" };

/** Every route needs `Authorization: Bearer <token>` (report.md §7). */
export function bearerAuth(getToken: () => Promise<string | undefined>): HttpMiddleware {
  return {
    before: async (request) => {
      const expected = await getToken();
      if (expected === undefined) {
        logger.error(
          "the API token is not configured (REPORT_API_TOKEN_SECRET or REPORT_API_TOKEN)",
        );
        throw new HttpError(500, "not_configured", "the API token is not configured");
      }
      const header = request.event.headers?.authorization ?? "";
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match?.[1] === undefined) {
        throw new HttpError(401, "unauthorized", "send Authorization: Bearer <token>", CHALLENGE);
      }
      if (!tokensEqual(match[1], expected)) {
        throw new HttpError(401, "unauthorized", "the token is not valid", CHALLENGE);
      }
    },
  };
}

/**
 * Errors become the JSON body of report.md §7. An HttpError says what the caller did wrong;
 * anything else is logged and answered with a generic 500, never a stack trace or a detail.
 */
export function jsonErrors(): HttpMiddleware {
  return {
    onError: (request) => {
      const error = request.error;
      if (error instanceof HttpError) {
        if (error.status >= 500) logger.error(error.message);
        request.response = toApiGateway(errorResponse(error));
        return;
      }
      logger.error("request failed", { error: error instanceof Error ? error : String(error) });
      request.response = toApiGateway(
        errorResponse(new HttpError(500, "internal_error", "the request could not be completed")),
      );
    },
  };
}

/**
 * The middy chain every route shares: header normalisation, security headers, JSON errors and
 * bearer-token auth, in that order, so that an auth failure is shaped and secured like any other
 * answer.
 */
export function httpHandler(
  handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpHeaderNormalizer())
    .use(
      httpSecurityHeaders({
        contentSecurityPolicy: {
          "default-src": "'none'",
          "style-src": "'unsafe-inline'",
          "img-src": "data:",
        },
      }),
    )
    .use(jsonErrors())
    .use(bearerAuth(apiToken))
    .handler(handler);
}

export function pathParam(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined) throw new HttpError(404, "not_found", "no such route");
  return value;
}
