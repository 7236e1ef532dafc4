import { listReports } from "../lib/api/reports.js";
import { httpHandler, toApiGateway } from "./middleware.js";
import { api, log } from "./runtime.js";

/** GET /reports: the stored report dates, newest first, paged (report.md §7). */
export const handler = httpHandler(async (event) =>
  toApiGateway(
    await listReports(
      api.store(),
      {
        limit: event.queryStringParameters?.limit,
        cursor: event.queryStringParameters?.cursor,
      },
      log,
    ),
  ),
);
