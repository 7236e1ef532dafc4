/**
 * Faults the simulator answers a listing request with: queued by a test, chosen by the
 * test's `faultFor`, or drawn at random (seeded), in that order. ListWorkspace requests have
 * their own queue (no `faultFor`, no random ones).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, sendModelArtsError } from "./http.js";
import { mulberry32 } from "./random.js";

export type Fault =
  /**
   * An HTTP error status with the documented ModelArts error body; `retryAfter` is sent as
   * the Retry-After header as it is (any text), `retryAfterSeconds` as a number.
   */
  | {
      kind: "status";
      status: number;
      retryAfterSeconds?: number;
      retryAfter?: string;
      errorCode?: string;
    }
  /** HTTP 200 with `total_count` as it is but no records: a page that lost its contents. */
  | { kind: "empty" }
  /** HTTP 200 with this JSON instead of the page: a page of the wrong shape. */
  | { kind: "body"; body: unknown }
  /** HTTP 200 with `is_success: false`. */
  | { kind: "not-success"; errorCode: string; errorMessage?: string }
  /**
   * HTTP 200 with the first half of the page's JSON. `"short-body"` (default) sends a
   * complete HTTP response whose Content-Length matches the cut body, so the client sees
   * invalid JSON; `"abort"` announces the full length and destroys the connection mid-body,
   * so the client's body read fails.
   */
  | { kind: "truncate"; mode?: "short-body" | "abort" }
  /** HTTP 200 with a text/html gateway page instead of JSON. */
  | { kind: "non-json" }
  /** Never answers (until the client gives up or the simulator closes). */
  | { kind: "hang" }
  /** Resets the connection without an answer. */
  | { kind: "reset" };

export type FaultFor = (request: {
  offset: number;
  limit: number;
  request: number;
}) => Fault | undefined;

/** Codes for simulated failures; 429 uses API Gateway's flow-control code. */
function defaultErrorCode(status: number): string {
  if (status === 400 || status === 404) return "ModelArts.0104";
  if (status === 401) return "ModelArts.0203";
  if (status === 403) return "ModelArts.0108";
  if (status === 429) return "APIGW.0308";
  return "ModelArts.0001";
}

const REASON: Readonly<Record<number, string>> = {
  429: "The throttling threshold has been reached",
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service temporarily unavailable",
};

const GATEWAY_PAGE =
  "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n" +
  "<body><center><h1>502 Bad Gateway</h1></center><hr><center>gateway</center></body></html>\n";

/** Where the next fault comes from: the queue, then `faultFor`, then the seeded dice. */
export class FaultSource {
  readonly #queue: Fault[] = [];
  readonly #faultFor: FaultFor | undefined;
  readonly #rate: number;
  readonly #random: () => number;

  constructor(opts: { faultFor?: FaultFor | undefined; failureRate?: number; seed?: number }) {
    this.#faultFor = opts.faultFor;
    this.#rate = opts.failureRate ?? 0;
    this.#random = mulberry32(opts.seed ?? 0);
  }

  /** Queues faults for the next requests; throws at once on one that cannot be sent. */
  queue(faults: readonly Fault[]): void {
    // Fail in the test that queues a bad fault, not later inside a request.
    for (const fault of faults) {
      if (
        fault.kind === "status" &&
        !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)
      ) {
        throw new RangeError(
          `a status fault needs an HTTP status from 200 to 599, got ${fault.status}`,
        );
      }
    }
    this.#queue.push(...faults);
  }

  next(request: { offset: number; limit: number; request: number }): Fault | undefined {
    return this.#queue.shift() ?? this.#faultFor?.(request) ?? this.#randomFailure();
  }

  #randomFailure(): Fault | undefined {
    if (this.#rate === 0 || this.#random() >= this.#rate) return undefined;
    const roll = this.#random();
    if (roll < 0.4) return { kind: "status", status: 429, retryAfterSeconds: 1 };
    if (roll < 0.6) return { kind: "status", status: 500 };
    if (roll < 0.8) return { kind: "status", status: 502 };
    return { kind: "status", status: 503 };
  }
}

/** What a fault answer may need of the page it replaces. */
export interface FaultedPage {
  /** The page as it would be but with no records (`total_count` as it is). */
  empty(): unknown;
  /** The JSON text of the full page. */
  body(): string;
}

function sendStatusFault(
  res: ServerResponse,
  fault: Extract<Fault, { kind: "status" }>,
  headers: Record<string, string>,
): void {
  const extra = { ...headers };
  if (fault.retryAfterSeconds !== undefined) {
    extra["Retry-After"] = String(fault.retryAfterSeconds);
  }
  if (fault.retryAfter !== undefined) extra["Retry-After"] = fault.retryAfter;
  const message = REASON[fault.status] ?? `Simulated HTTP ${fault.status}`;
  sendModelArtsError(
    res,
    fault.status,
    fault.errorCode ?? defaultErrorCode(fault.status),
    message,
    extra,
  );
}

function sendTruncated(
  req: IncomingMessage,
  res: ServerResponse,
  mode: "short-body" | "abort" | undefined,
  body: string,
  headers: Record<string, string>,
): void {
  const full = Buffer.from(body, "utf8");
  const half = full.subarray(0, Math.floor(full.length / 2));
  const abort = mode === "abort";
  res.writeHead(200, {
    ...headers,
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(abort ? full.length : half.length),
  });
  if (abort) res.write(half, () => req.socket.destroy());
  else res.end(half);
}

/** Answers with the fault (a hang leaves the request unanswered on purpose). */
export function answerWithFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  page: FaultedPage,
  headers: Record<string, string>,
): void {
  switch (fault.kind) {
    case "status":
      sendStatusFault(res, fault, headers);
      return;
    case "not-success":
      sendJson(
        res,
        200,
        {
          is_success: false,
          error_code: fault.errorCode,
          error_message: fault.errorMessage ?? "Simulated failure",
        },
        headers,
      );
      return;
    case "empty":
      sendJson(res, 200, page.empty(), headers);
      return;
    case "body":
      sendJson(res, 200, fault.body, headers);
      return;
    case "truncate":
      sendTruncated(req, res, fault.mode, page.body(), headers);
      return;
    case "non-json":
      res.writeHead(200, {
        ...headers,
        "Content-Type": "text/html",
        "Content-Length": String(Buffer.byteLength(GATEWAY_PAGE)),
      });
      res.end(GATEWAY_PAGE);
      return;
    case "hang":
      // Leave it open: the client's timeout has to end it (or close() does).
      return;
    case "reset":
      req.socket.resetAndDestroy();
      return;
  }
}
