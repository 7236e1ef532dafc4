import { listReports } from "../api/listings.js";
import { ROUTES } from "../api/routes.js";
import { listingHandler } from "./listing.js";

/** GET /reports: the stored report dates, newest first, paged (report.md §7); or a page. */
export const handler = listingHandler(ROUTES.listReports, listReports);
