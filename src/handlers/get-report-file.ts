import { getReportFile } from "../api/reports.js";
import { dateTarget, httpHandler, pathParam, toApiGateway, withFile } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/{date}/files/{name}: a presigned redirect on S3, the file itself locally. */
export const handler = httpHandler(
  async (event) =>
    toApiGateway(
      await getReportFile(api.store(), pathParam(event, "date"), pathParam(event, "name")),
    ),
  { linkTarget: withFile(dateTarget) },
);
