import type { ApiResponse } from "../api/http.js";
import type { ListingQuery } from "../api/listings.js";
import type { Route } from "../api/routes.js";
import type { Log } from "../shared/log.js";
import type { ReportStore } from "../storage/store.js";
import { pageLinks } from "./auth.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import { api, log } from "./runtime.js";

type Listing = (store: ReportStore, query: ListingQuery, log: Log) => Promise<ApiResponse>;

/** A listing route (days or months): the query string and the page's own href, as JSON or a page. */
export function listingHandler(route: Route, list: Listing) {
  return httpHandler(route, async (event, access) =>
    toApiGateway(
      await list(
        api.store(),
        {
          limit: event.queryStringParameters?.limit,
          cursor: event.queryStringParameters?.cursor,
          format: event.queryStringParameters?.format,
          accept: event.headers.accept,
          links: pageLinks(access),
        },
        log,
      ),
    ),
  );
}
