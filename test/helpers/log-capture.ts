import { vi } from "vitest";

/**
 * Keeps what the process writes to stdout and stderr (Powertools' JSON log lines, a command's
 * output) in `lines` instead of printing it, for checks; restored with `vi.restoreAllMocks()`.
 */
export function captureOutput(lines: string[] = []): string[] {
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(chunk.toString());
      return true;
    });
  }
  return lines;
}
