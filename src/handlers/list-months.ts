import { listMonths } from "../api/listings.js";
import { ROUTES } from "../api/routes.js";
import { listingHandler } from "./listing.js";

/** GET /reports/months: the stored month reports, newest first, paged; or a page. */
export const handler = listingHandler(ROUTES.listMonths, listMonths);
