import { listMonths } from "../lib/api/listings.js";
import { pageHref } from "./auth.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import { api, log } from "./runtime.js";

/** GET /reports/months: the stored month reports, newest first, paged; or a page. */
export const handler = httpHandler(
  async (event, access) =>
    toApiGateway(
      await listMonths(
        api.store(),
        {
          limit: event.queryStringParameters?.limit,
          cursor: event.queryStringParameters?.cursor,
          format: event.queryStringParameters?.format,
          accept: event.headers.accept,
          href: await pageHref(access),
        },
        log,
      ),
    ),
  { linkTarget: () => ({ kind: "list" }) },
);
