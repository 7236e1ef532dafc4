import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  covers,
  LinkRefusedError,
  type LinkTarget,
  PAGE_LINK_SECONDS,
  type SignedLink,
  signLink,
  targetOfScope,
  verifyLink,
} from "../api/links.js";
import { type PageHref, plainHref } from "../api/reports.js";
import { RequestError } from "../shared/errors.js";
import { api, logger } from "./runtime.js";

/**
 * Who may call a route: a script with `Authorization: Bearer <token>` (every route), or a
 * plain browser with a signed link (the GET routes that say which scope they serve). A request
 * with an Authorization header is judged by it alone, so scripts work unchanged.
 */

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export type Access =
  | { readonly kind: "bearer" }
  | { readonly kind: "link"; readonly link: SignedLink };

/** What a GET route serves, for the scope check of a signed link. */
export type LinkTargetOf = (event: APIGatewayProxyEventV2) => LinkTarget;

const accessByEvent = new WeakMap<APIGatewayProxyEventV2, Access>();

/** How the request was let in (set by `authenticate`, which runs before every handler). */
export function accessOf(event: APIGatewayProxyEventV2): Access {
  return accessByEvent.get(event) ?? { kind: "bearer" };
}

/** Compares digests so that neither the content nor the length of the token leaks by timing. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

async function checkBearer(header: string): Promise<void> {
  const expected = await api.token();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match?.[1] === undefined) {
    throw new RequestError("send Authorization: Bearer <token>", { code: "unauthorized" });
  }
  if (!tokensEqual(match[1], expected)) {
    throw new RequestError("the token is not valid", { code: "unauthorized" });
  }
}

async function checkLink(event: APIGatewayProxyEventV2, targetOf: LinkTargetOf): Promise<Access> {
  const key = await api.linkKey();
  // No key here (a local stage without REPORT_LINK_KEY): no link can be genuine.
  if (key === undefined) throw new LinkRefusedError("link_invalid");
  const verdict = verifyLink(key, event.queryStringParameters ?? {}, Date.now());
  if (!verdict.ok) {
    throw new LinkRefusedError(verdict.reason === "expired" ? "link_expired" : "link_invalid");
  }
  if (!covers(verdict.link.scope, targetOf(event))) throw new LinkRefusedError("link_out_of_scope");
  return { kind: "link", link: verdict.link };
}

export function authenticate(opts: { linkTarget?: LinkTargetOf | undefined }): HttpMiddleware {
  return {
    before: async (request) => {
      const { event } = request;
      const header = event.headers?.authorization;
      const signed = event.queryStringParameters?.signature !== undefined;
      if (header === undefined && signed && opts.linkTarget !== undefined) {
        accessByEvent.set(event, await checkLink(event, opts.linkTarget));
        return;
      }
      await checkBearer(header ?? "");
      accessByEvent.set(event, { kind: "bearer" });
    },
  };
}

/**
 * How pages link to other routes: signed links of PAGE_LINK_SECONDS (never beyond the link
 * the page was opened with) when a link key is configured, so everything on the page is
 * clickable in a plain browser; plain paths without a key. A page opened from a signed link
 * links to another page only if that link's scope opens it (a day's link does not lead to the
 * next day); its own files always.
 */
export async function pageHref(access: Access): Promise<PageHref> {
  const key = await api.linkKey();
  if (key === undefined) return (path) => path;
  const now = Math.floor(Date.now() / 1000);
  const expires = Math.min(
    now + PAGE_LINK_SECONDS,
    access.kind === "link" ? access.link.expires : Number.POSITIVE_INFINITY,
  );
  return (path, scope, own = false) => {
    if (access.kind === "link" && !own && !covers(access.link.scope, targetOfScope(scope))) {
      return undefined;
    }
    const at = path.indexOf("?");
    const query = new URLSearchParams(at === -1 ? "" : path.slice(at + 1));
    for (const [name, value] of signLink(key, { scope, expires })) query.set(name, value);
    return `${at === -1 ? path : path.slice(0, at)}?${query}`;
  };
}

/**
 * The page's links, made when a page is answered (a JSON or CSV answer needs no link key). A
 * key that cannot be read (Secrets Manager down, a key too short) does not take the page
 * down: it is shown without signed links, plain paths for a bearer caller and no links for a
 * browser that came with a signed link, and the log says why.
 */
export function pageLinks(access: Access): () => Promise<PageHref> {
  return async () => {
    try {
      return await pageHref(access);
    } catch (error) {
      logger.warn("page links are not signed: the link key cannot be read", {
        reason: error instanceof Error ? error.message : String(error),
      });
      return access.kind === "bearer" ? plainHref : () => undefined;
    }
  };
}
