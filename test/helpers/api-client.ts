import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { expect } from "vitest";
import { API_TOKEN, server, UPSTREAM_TOKEN } from "./api-fixture.js";

/** Talking to the API of `api-fixture.ts`: fetch, raw requests, and the error-body rule. */

export interface Answer {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
}

export interface Call {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The bearer token to send; `null` sends no Authorization header. */
  token?: string | null;
  base?: string;
}

/** Error bodies: `{"error": {"code", "message"}}` and nothing that looks like a stack trace. */
export function expectErrorBody(text: string, code?: string): { code: string; message: string } {
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error?.code).toBe("string");
  expect(typeof body.error?.message).toBe("string");
  if (code !== undefined) expect(body.error?.code).toBe(code);
  expect(text).not.toMatch(/stack/i);
  // V8 frames: "    at fn (file:line:col)" or "at file:line:col".
  expect(text).not.toMatch(/\bat\s+(\S+\s+)?\(?(file:|node:|\/)[^)]*:\d+:\d+/);
  expect(text).not.toMatch(/node_modules|\/work\/|\/tmp\//);
  expect(text).not.toContain(API_TOKEN);
  expect(text).not.toContain(UPSTREAM_TOKEN);
  return body.error as { code: string; message: string };
}

export async function call(path: string, opts: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? API_TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${opts.base ?? server.url}${path}`, {
    method: opts.method ?? "GET",
    headers,
    redirect: "manual",
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const answer = { status: res.status, headers: res.headers, bytes, text: bytes.toString("utf8") };
  if (answer.status >= 400) expectErrorBody(answer.text);
  return answer;
}

export async function expectError(answer: Promise<Answer>, status: number, code: string) {
  const got = await answer;
  expect({ status: got.status, text: got.text }).toMatchObject({ status });
  return expectErrorBody(got.text, code);
}

/** A request sent byte for byte as given (fetch would resolve `..` and re-encode the path). */
export function rawRequest(
  path: string,
  opts: { method?: string; headers?: [string, string][]; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? "GET",
        path,
        // As an array, headers go out as given, Host included (Node 20 refuses a request without).
        // A body gets its Content-Length, as any client sends it: without one, Node sends a
        // DELETE's body bare, and the server takes it for the next request.
        headers: [
          ["host", url.host],
          ...(opts.headers ?? []),
          ...(opts.body === undefined
            ? []
            : [["content-length", String(Buffer.byteLength(opts.body))]]),
        ].flat(),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

export const jsonPost = (body: string, opts: Call = {}) =>
  call("/reports", {
    method: "POST",
    body,
    ...opts,
    headers: { "content-type": "application/json; charset=utf-8", ...opts.headers },
  });
