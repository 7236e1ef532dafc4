import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createLink } from "../api/link-request.js";
import { ROUTES } from "../api/routes.js";
import { ConfigError, RequestError } from "../shared/errors.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import { api, logger } from "./runtime.js";

/** POST /links (bearer token only): a signed link a plain browser can open. */

/** A host name or address with an optional port, as a URL's authority may hold it. */
const HOST = /^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

/** The API's origin as the caller reached it: API Gateway's domain, or the local host. */
function origin(event: APIGatewayProxyEventV2): string {
  const host = event.headers.host ?? event.requestContext.domainName;
  if (!HOST.test(host))
    throw new RequestError("the Host header is not a host name", { code: "invalid_host" });
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
  const proto = event.headers["x-forwarded-proto"] ?? (local ? "http" : "https");
  return `${proto === "http" && local ? "http" : "https"}://${host}`;
}

export const handler = httpHandler(ROUTES.createLink, async (event) => {
  const key = await api.linkKey();
  if (key === undefined) {
    throw new ConfigError("no link key: set REPORT_LINK_KEY (local stage) to make links");
  }
  const answer = createLink(key, event.body, { now: Date.now(), base: origin(event) });
  // The URL carries a signature: never logged. What it opens is.
  logger.info("link made", { path: (event.body as { path?: unknown } | null)?.path ?? null });
  return toApiGateway(answer);
});
