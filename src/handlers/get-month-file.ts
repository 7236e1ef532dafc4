import { getMonthFile } from "../api/reports.js";
import { ROUTES } from "../api/routes.js";
import { httpHandler, pathParam, toApiGateway } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/months/{month}/files/{name}: a presigned redirect on S3, the file itself locally. */
export const handler = httpHandler(ROUTES.getMonthFile, async (event) =>
  toApiGateway(
    await getMonthFile(api.store(), pathParam(event, "month"), pathParam(event, "name")),
  ),
);
