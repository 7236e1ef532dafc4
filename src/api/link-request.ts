import * as z from "zod";
import { RequestError } from "../shared/errors.js";
import { type ApiResponse, jsonResponse } from "./http.js";
import { makeLink, parseTtl } from "./links.js";

/**
 * POST /links: `{"path": "/reports/latest", "ttl": "7d"}` → 201 `{url, scope, expires_at}`.
 * `ttl` is `"30m"`, `"12h"`, `"7d"`, seconds as a number, or left out for 7 days; at most 30
 * days. The link is for the API's own origin (`base`).
 */

export const DEFAULT_LINK_TTL = "7d";

const body = z.strictObject({
  path: z.string().min(1).max(300),
  ttl: z.union([z.string().max(20), z.number().int()]).optional(),
});

export function createLink(
  key: Buffer,
  input: unknown,
  opts: { now: number; base: string },
): ApiResponse {
  const parsed = body.safeParse(input);
  if (!parsed.success) {
    throw new RequestError(
      'the body must be a JSON object {"path": "/reports/...", "ttl": "7d"} and nothing else',
      { code: "invalid_body" },
    );
  }
  const ttl = parsed.data.ttl ?? DEFAULT_LINK_TTL;
  const ttlSeconds = typeof ttl === "number" ? ttl : parseTtl(ttl);
  if (ttlSeconds === undefined) {
    throw new RequestError('ttl must be like "30m", "12h", "7d" or seconds', {
      code: "invalid_body",
    });
  }
  // A path or ttl makeLink refuses is a LinkRequestError: 400 `invalid_body` at the edge.
  const link = makeLink(key, {
    path: parsed.data.path,
    ttlSeconds,
    now: opts.now,
    base: opts.base,
  });
  return jsonResponse(201, link, { "cache-control": "no-store" });
}
