import type { ApiResponse } from "../lib/api/http.js";
import type { ListingQuery } from "../lib/api/listings.js";
import type { Log } from "../lib/log.js";
import type { ReportStore } from "../lib/storage/store.js";
import { pageLinks } from "./auth.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import { api, log } from "./runtime.js";

type Listing = (store: ReportStore, query: ListingQuery, log: Log) => Promise<ApiResponse>;

/** A listing route (days or months): the query string and the page's own href, as JSON or a page. */
export function listingHandler(list: Listing) {
  return httpHandler(
    async (event, access) =>
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
    { linkTarget: () => ({ kind: "list" }) },
  );
}
