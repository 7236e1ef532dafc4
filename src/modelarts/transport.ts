import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * How the client sends a request and reads its whole answer. The default is node:http(s) with
 * keep-alive agents kept for the process's (the Lambda container's) life. Not `fetch`: at the
 * organisation's 80 requests in flight, fetch's stream layers took about 1 s more CPU for 3 240
 * pages than node:http doing the same (bench: "8 sources" lines, README Performance), enough to
 * make the run CPU-bound on a small machine. `fetchTransport` keeps fetch available (tests may
 * compare the two).
 */

export interface HttpAnswer {
  readonly status: number;
  /** A header's value (the first, for a repeated one), by name in any case. */
  header(name: string): string | undefined;
  /** The whole body as UTF-8. */
  readonly text: string;
}

export interface HttpRequest {
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  /** Aborts the request and its body read. */
  readonly signal: AbortSignal;
}

export type HttpTransport = (url: URL, request: HttpRequest) => Promise<HttpAnswer>;

/** One pool of kept-alive connections per scheme, shared by every client of the process. */
const AGENTS = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
} as const;

/** node:http(s): the request, then the answer read whole; a cut answer is an error. */
export const nodeTransport: HttpTransport = (url, init) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const https = url.protocol === "https:";
    const send = https ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: init.method,
        headers: { ...init.headers },
        agent: https ? AGENTS["https:"] : AGENTS["http:"],
        signal: init.signal,
      },
      (res) => readAnswer(res).then(resolve, reject),
    );
    req.on("error", reject);
    req.end(init.body);
  });

function readAnswer(res: IncomingMessage): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("error", reject);
    // `aborted`/`close` before `end`: the connection went away in the middle of the body.
    res.on("close", () => {
      if (!res.complete) reject(new Error("the connection closed before the whole answer came"));
    });
    res.on("end", () => {
      if (!res.complete) return;
      const headers = res.headers;
      resolve({
        status: res.statusCode ?? 0,
        header: (name) => {
          const value = headers[name.toLowerCase()];
          return Array.isArray(value) ? value[0] : value;
        },
        text: Buffer.concat(chunks).toString("utf8"),
      });
    });
  });
}

/** `fetch` as a transport. */
export function fetchTransport(doFetch: typeof fetch = fetch): HttpTransport {
  return async (url, init) => {
    const response = await doFetch(url, {
      method: init.method,
      headers: init.headers,
      signal: init.signal,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      text,
    };
  };
}
