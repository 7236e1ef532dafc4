import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { vi } from "vitest";
import type { RouteKey } from "./apigw.js";

/**
 * The Lambda handlers as a fresh container would run them: `env` becomes the process
 * environment (vi.stubEnv, undone by vi.unstubAllEnvs) and the handler modules are loaded
 * anew, so they read their configuration from it exactly as a deployed function does. No store
 * or config is injected.
 */

export type HttpLambda = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Handlers {
  readonly routes: Record<RouteKey, HttpLambda>;
  readonly report: (event: unknown, context: Context) => Promise<unknown>;
}

export async function loadHandlers(env: Record<string, string | undefined>): Promise<Handlers> {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  const [months, month, monthFile, list, get, file, post, links, report] = await Promise.all([
    import("../../src/handlers/list-months.js"),
    import("../../src/handlers/get-month.js"),
    import("../../src/handlers/get-month-file.js"),
    import("../../src/handlers/list-reports.js"),
    import("../../src/handlers/get-report.js"),
    import("../../src/handlers/get-report-file.js"),
    // As in serverless.yml: the local stage's POST runs the job in-process, a deployed one
    // (with the report function's name) hands it over.
    env.REPORT_FUNCTION_NAME === undefined
      ? import("../../src/handlers/post-reports-local.js")
      : import("../../src/handlers/post-reports.js"),
    import("../../src/handlers/post-links.js"),
    import("../../src/handlers/report.js"),
  ]);
  return {
    routes: {
      "GET /reports/months": months.handler,
      "GET /reports/months/{month}": month.handler,
      "GET /reports/months/{month}/files/{name}": monthFile.handler,
      "GET /reports": list.handler,
      "GET /reports/{date}": get.handler,
      "GET /reports/{date}/files/{name}": file.handler,
      "POST /reports": post.handler,
      "POST /links": links.handler,
    },
    report: report.handler,
  };
}

/** The environment that points the AWS SDK's S3 client at a loopback S3 (s3rver). */
export function localS3Env(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: "eu-central-1",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  };
}
