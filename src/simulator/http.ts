/** The simulator's HTTP plumbing: JSON answers, the ModelArts failure body, request reading. */
import type { IncomingMessage, ServerResponse } from "node:http";

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** The ModelArts failure body (modelarts-api.md, "Failure body"). */
export function sendModelArtsError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { is_success: false, error_code: code, error_message: message }, headers);
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

/** Reads the request body as UTF-8; `undefined` when it is larger than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Indicative flow-control headers; the simulator does not enforce them. */
const RATE_LIMIT = 1000;
const RATE_WINDOW_MS = 60_000;

/** API Gateway's flow-control headers, counted per fixed window of `now()`. */
export function rateLimitHeaders(now: () => number): () => Record<string, string> {
  let window = { start: 0, used: 0 };
  return () => {
    const t = now();
    if (t - window.start >= RATE_WINDOW_MS) window = { start: t, used: 0 };
    window.used += 1;
    return {
      "X-ratelimit": String(RATE_LIMIT),
      "X-ratelimit-used": String(window.used),
      "X-ratelimit-window": `${RATE_WINDOW_MS / 1000}s`,
    };
  };
}
