import { Writable } from "node:stream";

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
