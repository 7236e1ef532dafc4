import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fetchTransport,
  type HttpAnswer,
  type HttpTransport,
  nodeTransport,
} from "../../src/modelarts/transport.js";
import type { Fault } from "../../src/simulator/server.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";

/**
 * The client's transport (node:http with kept-alive agents) against fetch as its oracle, over
 * real HTTP to the simulator: the same status, headers and body for every kind of answer, and
 * a failure wherever fetch fails (a cut connection, a reset, an abort).
 */

const NOW = Date.UTC(2026, 10, 28);
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    projectId: "p",
    versions: generateWorkload({ versions: 300, seed: 3, days: 2, now: NOW }),
    auth: { tokens: ["t"] },
    pageCap: 100,
    now: () => NOW,
  });
});
afterAll(() => sim.close());

const page = () => new URL(`/v1/p/training-jobs/versions?offset=0&limit=100`, sim.url);
const headers = { "X-Auth-Token": "t", Accept: "application/json" };
const get = (transport: HttpTransport, signal = new AbortController().signal) =>
  transport(page(), { method: "GET", headers, signal });
const TRANSPORTS: [string, HttpTransport][] = [
  ["node:http", nodeTransport],
  ["fetch", fetchTransport()],
];
/** What the client reads of an answer. */
const seen = (a: HttpAnswer) => ({
  status: a.status,
  type: a.header("Content-Type"),
  retryAfter: a.header("retry-after"),
  requestId: a.header("X-Request-Id") === undefined ? "none" : "some",
  text: a.text,
});

describe("the client's transport", () => {
  it.each<[string, Fault | undefined]>([
    ["a page", undefined],
    ["a 429 with Retry-After", { kind: "status", status: 429, retryAfterSeconds: 2 }],
    ["a 503", { kind: "status", status: 503 }],
    ["a gateway page", { kind: "non-json" }],
    ["a body cut short, whole by its Content-Length", { kind: "truncate", mode: "short-body" }],
  ])("reads %s as fetch does", async (_what, fault) => {
    const answers = [];
    for (const [, transport] of TRANSPORTS) {
      if (fault !== undefined) sim.queueFaults(fault);
      answers.push(seen(await get(transport)));
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]?.text.length).toBeGreaterThan(0);
  });

  it.each<[string, Fault]>([
    ["a connection cut in the middle of the body", { kind: "truncate", mode: "abort" }],
    ["a reset without an answer", { kind: "reset" }],
  ])("fails on %s, as fetch does", async (_what, fault) => {
    for (const [name, transport] of TRANSPORTS) {
      sim.queueFaults(fault);
      await expect(get(transport), name).rejects.toThrow();
    }
    // The kept-alive pool is not left with a broken connection: the next request is answered.
    expect((await get(nodeTransport)).status).toBe(200);
  });

  it("gives up at once when its signal aborts, and a hung request holds nothing after", async () => {
    for (const [name, transport] of TRANSPORTS) {
      sim.queueFaults({ kind: "hang" });
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(new Error("enough")), 50);
      await expect(get(transport, controller.signal), name).rejects.toThrow();
      expect(Date.now() - started, name).toBeLessThan(2_000);
    }
    expect((await get(nodeTransport)).status).toBe(200);
  });
});
