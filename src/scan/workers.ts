import { type Page, PlannedPages } from "./page-chain.js";
import type { PageReader } from "./page-reader.js";

/**
 * Runs `tasks` with at most `limit` in flight; results in task order. Once `signal` aborts,
 * no further task starts.
 */
export async function pool<T>(
  limit: number,
  tasks: readonly (() => Promise<T>)[],
  signal: AbortSignal,
): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length && !signal.aborted) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
    signal.throwIfAborted();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/**
 * The planned pages after `first`, read `concurrency` at a time and linked with their
 * neighbours as they arrive (see `PlannedPages`); in offset order.
 */
export function readPlanned(
  reader: PageReader,
  first: Page,
  offsets: readonly number[],
  concurrency: number,
  signal: AbortSignal,
): Promise<Page[]> {
  const planned = new PlannedPages(first, offsets.length);
  return pool(
    concurrency,
    offsets.map((offset, k) => async () => {
      const page = await reader.read(offset);
      planned.arrive(k + 1, page);
      return page;
    }),
    signal,
  );
}
