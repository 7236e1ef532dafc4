import { getMonthFile } from "../api/reports.js";
import { httpHandler, monthTarget, pathParam, toApiGateway, withFile } from "./middleware.js";
import { api } from "./runtime.js";

/** GET /reports/months/{month}/files/{name}: a presigned redirect on S3, the file itself locally. */
export const handler = httpHandler(
  async (event) =>
    toApiGateway(
      await getMonthFile(api.store(), pathParam(event, "month"), pathParam(event, "name")),
    ),
  { linkTarget: withFile(monthTarget) },
);
