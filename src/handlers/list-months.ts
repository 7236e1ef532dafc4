import { listMonths } from "../api/listings.js";
import { listingHandler } from "./listing.js";

/** GET /reports/months: the stored month reports, newest first, paged; or a page. */
export const handler = listingHandler(listMonths);
