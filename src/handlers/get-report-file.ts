import { getReportFile } from "../api/reports.js";
import { ROUTES } from "../api/routes.js";
import { httpHandler, pathParam, toApiGateway } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/{date}/files/{name}: a presigned redirect on S3, the file itself locally. */
export const handler = httpHandler(ROUTES.getReportFile, async (event) =>
  toApiGateway(
    await getReportFile(api.store(), pathParam(event, "date"), pathParam(event, "name")),
  ),
);
