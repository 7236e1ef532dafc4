import type { ScanProgress } from "../scan/scan.js";

/**
 * Scan progress on standard error (report.md §6): a live line on a terminal; otherwise a
 * plain line at most every `intervalMs` (10 s) and one at the end.
 */
export function progressPrinter(
  stream: NodeJS.WriteStream = process.stderr,
  opts: { intervalMs?: number; clock?: () => number } = {},
): (p: ScanProgress) => void {
  const interval = opts.intervalMs ?? 10_000;
  const clock = opts.clock ?? Date.now;
  const live = stream.isTTY === true;
  let last = Number.NEGATIVE_INFINITY;
  return (p) => {
    const of = p.totalCount === undefined ? "" : ` of ${p.totalCount}`;
    const line = `scan: ${p.pages} page${p.pages === 1 ? "" : "s"}, ${p.versionsRead}${of} versions read${p.done ? ", done" : ""}`;
    if (live) {
      stream.write(`\r\x1b[2K${line}${p.done ? "\n" : ""}`);
      return;
    }
    const t = clock();
    if (p.done || t - last >= interval) {
      last = t;
      stream.write(`${line}\n`);
    }
  };
}
