import { Writable } from "node:stream";
import type { CliIo } from "../../src/cli/main.js";

/** A stream standing in for stdout/stderr of a command run in-process; `text` is what it got. */
export function sink(): NodeJS.WriteStream & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text: string };
  stream.text = "";
  return stream;
}

/** The io of a command run in-process: stdout and stderr caught in `.text`, the clock at `now`. */
export function cliIo(
  env: Record<string, string | undefined>,
  now: number,
  cwd: string,
): CliIo & { stdout: ReturnType<typeof sink>; stderr: ReturnType<typeof sink> } {
  return { stdout: sink(), stderr: sink(), env, now: () => now, cwd };
}

/** What the report command needs to read the simulator at `url` (token `t`) into `root`. */
export function simulatorEnv(url: string, projectId: string, root: string): Record<string, string> {
  return {
    MODELARTS_ENDPOINT: url,
    MODELARTS_PROJECT_ID: projectId,
    MODELARTS_TOKEN: "t",
    REPORT_STORAGE: `file://${root}`,
  };
}
