import { ROUTES } from "../api/routes.js";
import { getReportSource } from "../api/source-reports.js";
import { pageLinks } from "./auth.js";
import { httpHandler, pathParam, toApiGateway } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/{date}/sources/{name}: one source's slice of a day (report.md §10). */
export const handler = httpHandler(ROUTES.getReportSource, async (event, access) =>
  toApiGateway(
    await getReportSource(api.store(), pathParam(event, "date"), pathParam(event, "name"), {
      format: event.queryStringParameters?.format,
      accept: event.headers.accept,
      ifNoneMatch: event.headers["if-none-match"],
      links: pageLinks(access),
    }),
  ),
);
