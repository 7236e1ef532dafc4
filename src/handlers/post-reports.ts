import { InvocationType, InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { jsonResponse } from "../lib/api/http.js";
import { parseRegeneration } from "../lib/api/reports.js";
import { HttpError } from "../lib/errors.js";
import { runConfiguredReport } from "../lib/run.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import { fetchSecret, getConfig, getStore, log, logger } from "./runtime.js";

/**
 * POST /reports: regenerate a date or a range (report.md §7). Deployed, the dates go to the
 * report function (one run at a time there); locally the job runs here, in-process.
 */

const MAX_BODY_BYTES = 16 * 1024;

function jsonBody(event: APIGatewayProxyEventV2): unknown {
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

export const handler = httpHandler(async (event) => {
  const dates = parseRegeneration(jsonBody(event));
  await regenerate(dates);
  logger.info("regeneration accepted", { dates: `${dates[0]}..${dates[dates.length - 1]}` });
  return toApiGateway(jsonResponse(202, { dates }));
});
