import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient, type ModelArtsClientOptions } from "../../src/modelarts/client.js";
import {
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "../../src/simulator/server.js";
import { type LocalS3, startS3 } from "./s3.js";

/**
 * What a test file of whole runs starts once: the simulator (accepting the token `t`), and a
 * temporary folder and s3rver with one bucket when asked; all closed after the file.
 */

/** The upstream token every run set-up's simulator accepts. */
export const RUN_TOKEN = "t";

export interface RunSetupOptions
  extends Pick<SimulatorOptions, "projectId" | "versions" | "pageCap" | "faultFor"> {
  /** Make a temporary folder with this prefix. */
  dirPrefix?: string;
  /** Start s3rver and create this bucket. */
  s3Bucket?: string;
}

export interface RunSetup {
  readonly sim: Simulator;
  /** Only with `dirPrefix`. */
  readonly dir: string;
  /** Only with `s3Bucket`. */
  readonly s3: LocalS3;
  /** A client of the simulator with the token; `more` overrides its options (e.g. retry). */
  client(more?: Partial<ModelArtsClientOptions>): ModelArtsClient;
}

/** Registers the beforeAll/afterAll of a run set-up; its parts are there inside the tests. */
export function useRunSetup(opts: RunSetupOptions): RunSetup {
  const { dirPrefix, s3Bucket, ...simulator } = opts;
  let sim: Simulator | undefined;
  let dir: string | undefined;
  let s3: LocalS3 | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ ...simulator, auth: { tokens: [RUN_TOKEN] } });
    if (s3Bucket !== undefined) {
      s3 = await startS3();
      await s3.createBucket(s3Bucket);
    }
    if (dirPrefix !== undefined) dir = await mkdtemp(join(tmpdir(), dirPrefix));
  });
  afterAll(async () => {
    await sim?.close();
    await s3?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const started = <T>(part: T | undefined, name: string): T => {
    if (part === undefined) throw new Error(`the run set-up has no ${name} (yet)`);
    return part;
  };
  return {
    get sim() {
      return started(sim, "simulator");
    },
    get dir() {
      return started(dir, "folder");
    },
    get s3() {
      return started(s3, "s3rver");
    },
    client(more = {}) {
      return new ModelArtsClient({
        endpoint: started(sim, "simulator").url,
        projectId: opts.projectId,
        auth: staticTokenAuth(RUN_TOKEN),
        ...more,
      });
    },
  };
}
