import pLimit from "p-limit";
import type { VersionSource } from "../modelarts/client.js";
import type { JobVersion } from "../modelarts/version-record.js";
import { SourcesFailedError } from "../shared/errors.js";
import { type ScanProgress, type ScanResult, scanVersions } from "./scan.js";

/**
 * The scans of an organisation's sources (report.md §10): all at once, each with its own page
 * size, concurrency and retry budget (its own client), under one cap on the requests in
 * flight across all of them. A source that fails does not stop the others, so the error can
 * name every source that failed and why; then nothing is returned to publish.
 */

/** One listing to scan: its name, the port to read it from, and how to page it. */
export interface SourceScan {
  readonly name: string;
  readonly versions: VersionSource;
  readonly pageSize: number;
  /** Page requests in flight at once for this source (default 1). */
  readonly concurrency?: number | undefined;
}

export interface SourcesScanOptions {
  /** Whether a valid version belongs to the report. */
  readonly keep: (version: JobVersion) => boolean;
  /** Requests in flight at once across every source (default: no cap beyond each source's). */
  readonly maxInFlight?: number | undefined;
  readonly onProgress?: ((source: string, progress: ScanProgress) => void) | undefined;
  /** Told when each source's scan ends, in the order they end. */
  readonly onSourceDone?: ((source: string, result: ScanResult) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The port of one source, behind the shared cap on requests in flight. */
function capped(source: VersionSource, limit: ReturnType<typeof pLimit>): VersionSource {
  return {
    listPage: (offset, size, options) =>
      limit(() => {
        // A request that waited for a slot while its scan failed is not sent.
        options?.signal?.throwIfAborted();
        return source.listPage(offset, size, options);
      }),
  };
}

/**
 * Every source's scan, in the order given; throws SourcesFailedError naming each source whose
 * scan failed (after every scan has ended), or with one source its error as it was.
 */
export async function scanSources(
  sources: readonly SourceScan[],
  opts: SourcesScanOptions,
): Promise<ScanResult[]> {
  const limit = opts.maxInFlight === undefined ? undefined : pLimit(opts.maxInFlight);
  const settled = await Promise.allSettled(
    sources.map(async (s) => {
      const result = await scanVersions(
        limit === undefined ? s.versions : capped(s.versions, limit),
        {
          pageSize: s.pageSize,
          concurrency: s.concurrency,
          keep: opts.keep,
          signal: opts.signal,
          onProgress:
            opts.onProgress === undefined ? undefined : (p) => opts.onProgress?.(s.name, p),
        },
      );
      opts.onSourceDone?.(s.name, result);
      return result;
    }),
  );
  const failures = settled.flatMap((r, i) =>
    r.status === "rejected" ? [{ source: (sources[i] as SourceScan).name, error: r.reason }] : [],
  );
  const [only] = failures;
  if (only !== undefined && sources.length === 1) throw only.error;
  if (failures.length > 0) throw new SourcesFailedError(failures, sources.length);
  return settled.map((r) => (r as PromiseFulfilledResult<ScanResult>).value);
}
