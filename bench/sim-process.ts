import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SimHostOptions } from "./sim-host.js";

/** The simulator in a process of its own, so its CPU and memory are not the reporter's. */
export interface SimProcess {
  readonly url: string;
  close(): Promise<void>;
}

const CLI = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));

export async function startSimProcess(opts: {
  versions: number;
  latencyMs: number;
  pageCap: number;
  seed: number;
  days: number;
}): Promise<SimProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      CLI,
      "simulate",
      "--port",
      "0",
      "--versions",
      String(opts.versions),
      "--latency",
      String(opts.latencyMs),
      "--page-cap",
      String(opts.pageCap),
      "--seed",
      String(opts.seed),
      "--days",
      String(opts.days),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`the simulator exited with ${code}: ${out}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Several listings, each a simulator on its own port, all in one process (sim-host.ts). */
export interface SimHost {
  readonly urls: readonly string[];
  /** The host's CPU time so far, user and system, in ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

// The host is built next to the benchmark's bundle (scripts/bench.mjs builds both).
const HOST = fileURLToPath(new URL("./sim-host.mjs", import.meta.url));

export async function startSimHost(opts: SimHostOptions): Promise<SimHost> {
  const child: ChildProcess = spawn(process.execPath, [HOST, JSON.stringify(opts)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const urls = await new Promise<string[]>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (/^ready$/m.test(out)) {
        resolve([...out.matchAll(/listening on (http:\/\/\S+)/g)].map((m) => m[1] as string));
      }
    });
    child.once("exit", (code) =>
      reject(new Error(`the simulator host exited with ${code}: ${out}`)),
    );
  });
  const answers: ((ms: number) => void)[] = [];
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const l of lines) {
      const m = /^cpu-ms ([\d.]+)$/.exec(l);
      if (m) answers.shift()?.(Number(m[1]));
    }
  });
  return {
    urls,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        answers.push(resolve);
        child.stdin?.write("cpu\n");
      }),
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.stdin?.end();
        child.kill("SIGTERM");
      }),
  };
}
