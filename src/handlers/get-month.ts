import { getMonthReport } from "../api/reports.js";
import { pageLinks } from "./auth.js";
import { httpHandler, monthTarget, pathParam, toApiGateway } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/months/{month} and /reports/months/latest: a month's report.json, CSV or page. */
export const handler = httpHandler(
  async (event, access) =>
    toApiGateway(
      await getMonthReport(api.store(), pathParam(event, "month"), {
        format: event.queryStringParameters?.format,
        accept: event.headers.accept,
        ifNoneMatch: event.headers["if-none-match"],
        links: pageLinks(access),
      }),
    ),
  { linkTarget: monthTarget },
);
