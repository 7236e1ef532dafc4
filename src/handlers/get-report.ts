import { getReport } from "../api/reports.js";
import { ROUTES } from "../api/routes.js";
import { pageLinks } from "./auth.js";
import { httpHandler, pathParam, toApiGateway } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/{date} and /reports/latest: report.json, or usage.csv or the page (report.md §7). */
export const handler = httpHandler(ROUTES.getReport, async (event, access) =>
  toApiGateway(
    await getReport(api.store(), pathParam(event, "date"), {
      format: event.queryStringParameters?.format,
      accept: event.headers.accept,
      ifNoneMatch: event.headers["if-none-match"],
      links: pageLinks(access),
    }),
  ),
);
