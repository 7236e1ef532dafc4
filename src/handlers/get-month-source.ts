import { ROUTES } from "../api/routes.js";
import { getMonthSource } from "../api/source-reports.js";
import { pageLinks } from "./auth.js";
import { httpHandler, pathParam, toApiGateway } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/months/{month}/sources/{name}: one source's slice of a month (report.md §10). */
export const handler = httpHandler(ROUTES.getMonthSource, async (event, access) =>
  toApiGateway(
    await getMonthSource(api.store(), pathParam(event, "month"), pathParam(event, "name"), {
      format: event.queryStringParameters?.format,
      accept: event.headers.accept,
      ifNoneMatch: event.headers["if-none-match"],
      links: pageLinks(access),
    }),
  ),
);
