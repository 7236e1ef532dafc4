import { getMonthReport } from "../api/reports.js";
import { ROUTES } from "../api/routes.js";
import { pageLinks } from "./auth.js";
import { httpHandler, pathParam, toApiGateway } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/months/{month} and /reports/months/latest: a month's report.json, CSV or page. */
export const handler = httpHandler(ROUTES.getMonth, async (event, access) =>
  toApiGateway(
    await getMonthReport(api.store(), pathParam(event, "month"), {
      format: event.queryStringParameters?.format,
      accept: event.headers.accept,
      ifNoneMatch: event.headers["if-none-match"],
      links: pageLinks(access),
    }),
  ),
);
