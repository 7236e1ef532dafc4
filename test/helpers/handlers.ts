import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { vi } from "vitest";
import { ROUTE_LIST, type RouteKey, routeKey } from "../../src/api/routes.js";

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

export type StepLambda = (event: unknown, context: Context) => Promise<unknown>;

export interface Handlers {
  readonly routes: Record<RouteKey, HttpLambda>;
  /** The state machine's steps (issue 21), and where a failed run goes (issue 22). */
  readonly steps: Record<"plan" | "scanSource" | "publish" | "recordFailure", StepLambda>;
}

/** The module and export a serverless.yml handler (`src/handlers/get-report.handler`) names. */
function handlerModule(handler: string): { module: string; name: string } {
  const at = handler.lastIndexOf(".");
  return { module: `../../${handler.slice(0, at)}.ts`, name: handler.slice(at + 1) };
}

async function load<T>(handler: string): Promise<T> {
  const { module, name } = handlerModule(handler);
  const loaded = (await import(/* @vite-ignore */ module)) as Record<string, unknown>;
  if (typeof loaded[name] !== "function") throw new Error(`${handler} is not a function`);
  return loaded[name] as T;
}

export async function loadHandlers(env: Record<string, string | undefined>): Promise<Handlers> {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  // Each route's handler as the route table (and so serverless.yml) names it. POST /reports:
  // the local stage's runs the job in-process, a deployed one (with the state machine's ARN)
  // starts an execution.
  const stage = env.REPORT_STATE_MACHINE_ARN === undefined ? "local" : "deployed";
  const entries = await Promise.all(
    ROUTE_LIST.map(async (route) => {
      const handler = typeof route.handler === "string" ? route.handler : route.handler[stage];
      return [routeKey(route), await load<HttpLambda>(handler)] as const;
    }),
  );
  return {
    routes: Object.fromEntries(entries) as Record<RouteKey, HttpLambda>,
    steps: {
      plan: await load<StepLambda>("src/handlers/plan.handler"),
      scanSource: await load<StepLambda>("src/handlers/scan-source.handler"),
      publish: await load<StepLambda>("src/handlers/publish.handler"),
      recordFailure: await load<StepLambda>("src/handlers/record-failure.handler"),
    },
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
