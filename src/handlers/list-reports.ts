import { listReports } from "../lib/api/listings.js";
import { pageHref } from "./auth.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import { api, log } from "./runtime.js";

/** GET /reports: the stored report dates, newest first, paged (report.md §7); or a page. */
export const handler = httpHandler(
  async (event, access) =>
    toApiGateway(
      await listReports(
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
