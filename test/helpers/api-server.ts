import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { apiGatewayEvent, lambdaContext, matchRoute, type RouteKey } from "./apigw.js";
import type { HttpLambda } from "./handlers.js";

/**
 * A small stand-in for API Gateway on 127.0.0.1: each real HTTP request becomes the payload
 * 2.0 event API Gateway would build, goes to the handler of its route, and the handler's
 * result is written back. Requests that match no route get 404, as API Gateway answers them
 * without calling a function (API Gateway's own body is `{"message":"Not Found"}`; here it has
 * the API's error shape so that tests can hold every error body to one rule).
 */

export interface ApiServerOptions {
  /** Hand every body to the handler base64-encoded (API Gateway does so for binary types). */
  base64Bodies?: boolean;
}

export interface ApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The events handed to handlers, newest last (for tests that look at what API Gateway sent). */
  readonly events: APIGatewayProxyEventV2[];
  /** The functions behind the routes from now on (see loadHandlers). */
  setHandlers(handlers: Record<RouteKey, HttpLambda>): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    // Middy's security headers set some names to `undefined` to drop them; JSON drops those.
    if (value !== undefined) headers[name.toLowerCase()] = String(value);
  }
  if (result.cookies !== undefined) headers["set-cookie"] = result.cookies;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  // API Gateway's default for a missing status code is 200.
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}

export async function startApiServer(
  initial: Record<RouteKey, HttpLambda>,
  opts: ApiServerOptions = {},
): Promise<ApiServer> {
  let handlers = initial;
  const events: APIGatewayProxyEventV2[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const method = req.method ?? "GET";
    const rawPath = url.split("?", 1)[0] ?? "/";
    const route = matchRoute(method, rawPath);
    const body = await readBody(req);
    if (route === undefined) {
      sendJson(res, 404, { error: { code: "not_found", message: "no such route" } });
      return;
    }
    const event = apiGatewayEvent({
      method,
      url,
      // rawHeaders keeps repeated headers apart, so the event joins them as API Gateway does.
      headers: pairs(req.rawHeaders),
      body: body.length === 0 ? undefined : body,
      ...(opts.base64Bodies ? { base64: true } : {}),
      sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
      route,
    });
    events.push(event);
    let result: APIGatewayProxyStructuredResultV2;
    try {
      result = await handlers[route.routeKey](event, lambdaContext());
    } catch {
      // What API Gateway answers when the function itself fails.
      sendJson(res, 500, { message: "Internal Server Error" });
      return;
    }
    writeResult(res, result);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { message: "Internal Server Error" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    setHandlers(next) {
      handlers = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** `[name, value, name, value, …]` → `{name: [values…]}`; a Map, so a `__proto__` header is data. */
function pairs(raw: readonly string[]): Record<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), raw[i + 1] as string]);
  }
  return Object.fromEntries(headers);
}
