import { InvocationType, InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import middy from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import httpSecurityHeaders from "@middy/http-security-headers";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { jsonResponse } from "../lib/api/http.js";
import {
  getReportFile as getReportFileRoute,
  getReport as getReportRoute,
  listReports as listReportsRoute,
  parseRegeneration,
} from "../lib/api/reports.js";
import { HttpError } from "../lib/errors.js";
import { runConfiguredReport } from "../lib/run.js";
import { bearerAuth, jsonErrors, toApiGateway } from "./middleware.js";
import { apiToken, fetchSecret, getConfig, getStore, log, logger } from "./runtime.js";

/**
 * The HTTP API of report.md §7, one thin handler per route: middlewares authenticate,
 * normalise headers, add security headers and shape errors; each handler parses its event,
 * calls the library and returns its answer.
 */

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;
type Handler = (event: Event) => Promise<Result>;

function http(handler: Handler) {
  return middy<Event, Result>()
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

function pathParam(event: Event, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined) throw new HttpError(404, "not_found", "no such route");
  return value;
}

export const listReports = http(async (event) =>
  toApiGateway(
    await listReportsRoute(getStore(), {
      limit: event.queryStringParameters?.limit,
      cursor: event.queryStringParameters?.cursor,
    }),
  ),
);

export const getReport = http(async (event) =>
  toApiGateway(
    await getReportRoute(getStore(), pathParam(event, "date"), {
      format: event.queryStringParameters?.format,
      accept: event.headers.accept,
      ifNoneMatch: event.headers["if-none-match"],
    }),
  ),
);

export const getReportFile = http(async (event) =>
  toApiGateway(
    await getReportFileRoute(getStore(), pathParam(event, "date"), pathParam(event, "name")),
  ),
);

const MAX_BODY_BYTES = 16 * 1024;

function jsonBody(event: Event): unknown {
  const type = event.headers["content-type"] ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
  }
  const raw =
    event.body === undefined
      ? ""
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body;
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    throw new HttpError(413, "body_too_large", `the body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
}

const lambda = new LambdaClient({});

/** Deployed: hand the dates to the report function (asynchronously). Locally: run it here. */
async function regenerate(dates: string[]): Promise<void> {
  const functionName = process.env.REPORT_FUNCTION_NAME;
  if (functionName) {
    await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: InvocationType.Event,
        Payload: Buffer.from(JSON.stringify({ dates })),
      }),
    );
    return;
  }
  await runConfiguredReport(getConfig(), dates, {
    now: Date.now(),
    log,
    fetchSecret,
    store: getStore(),
  });
}

export const postReports = http(async (event) => {
  const dates = parseRegeneration(jsonBody(event));
  await regenerate(dates);
  logger.info("regeneration accepted", { dates: `${dates[0]}..${dates[dates.length - 1]}` });
  return toApiGateway(jsonResponse(202, { dates }));
});
