import { IncompleteScanError } from "./errors.js";
import type { VersionSource } from "./modelarts/client.js";
import { type JobVersion, parseVersionRecord } from "./modelarts/version-record.js";
import type { Anomalies } from "./report/types.js";

/**
 * Reads every job version of the project, page by page, and keeps only those the report
 * needs. Memory grows with the versions kept (the report's), not with the versions scanned:
 * the rest leave nothing but their id in a set (for de-duplication and `versions_scanned`).
 */

export interface ScanProgress {
  readonly pages: number;
  readonly versionsRead: number;
  /** `undefined` until the first page is in. */
  readonly totalCount: number | undefined;
  readonly done: boolean;
}

export interface ScanOptions {
  readonly pageSize: number;
  /** Whether a valid version belongs to the report. */
  readonly keep: (version: JobVersion) => boolean;
  readonly onProgress?: ((progress: ScanProgress) => void) | undefined;
}

export interface ScanResult {
  /** The versions kept, by id; for an id read twice, the copy read last. */
  readonly versions: ReadonlyMap<number, JobVersion>;
  /** Distinct valid versions read. */
  readonly versionsScanned: number;
  /** Successful listing calls. */
  readonly pages: number;
  readonly totalCountFirst: number;
  readonly totalCountLast: number;
  readonly anomalies: Anomalies;
}

/** Collects parsed records: de-duplication by id, "last copy wins", anomaly counting. */
export class VersionCollector {
  readonly #keep: (version: JobVersion) => boolean;
  readonly #kept = new Map<number, JobVersion>();
  readonly #valid = new Set<number>();
  /** Bad records by key → reason; a record read twice counts once. */
  readonly #bad = new Map<string, string>();

  constructor(keep: (version: JobVersion) => boolean) {
    this.#keep = keep;
  }

  add(raw: unknown): void {
    const parsed = parseVersionRecord(raw);
    if (parsed.ok) {
      const v = parsed.version;
      this.#valid.add(v.versionId);
      this.#bad.delete(`id:${v.versionId}`);
      if (this.#keep(v)) this.#kept.set(v.versionId, v);
      else this.#kept.delete(v.versionId);
      return;
    }
    this.#bad.set(parsed.key, parsed.reason);
    // A later bad copy of a version replaces an earlier good one: last copy wins.
    const id = parsed.key.startsWith("id:") ? Number(parsed.key.slice(3)) : Number.NaN;
    if (Number.isSafeInteger(id)) {
      this.#valid.delete(id);
      this.#kept.delete(id);
    }
  }

  get versionsRead(): number {
    return this.#valid.size + this.#bad.size;
  }

  get versions(): ReadonlyMap<number, JobVersion> {
    return this.#kept;
  }

  get versionsScanned(): number {
    return this.#valid.size;
  }

  anomalies(): Anomalies {
    const reasons: Record<string, number> = {};
    for (const reason of [...this.#bad.values()].sort())
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    return { skipped: this.#bad.size, reasons };
  }
}

export async function scanVersions(source: VersionSource, opts: ScanOptions): Promise<ScanResult> {
  const collector = new VersionCollector(opts.keep);
  let offset = 0;
  let pages = 0;
  let totalCountFirst: number | undefined;
  let totalCount: number | undefined;
  const report = (done: boolean) =>
    opts.onProgress?.({ pages, versionsRead: collector.versionsRead, totalCount, done });

  for (;;) {
    // A listing that keeps growing faster than we read must not keep us here forever.
    if (totalCountFirst !== undefined && offset > 2 * totalCountFirst + 10_000) {
      throw new IncompleteScanError(
        `the scan read ${offset} records without reaching total_count ${totalCount} (it was ${totalCountFirst} at the start); the listing keeps growing`,
      );
    }
    const page = await source.listPage(offset, opts.pageSize);
    pages++;
    totalCount = page.totalCount;
    totalCountFirst ??= page.totalCount;
    for (const record of page.records) collector.add(record);
    report(false);
    if (page.records.length === 0) break;
    // Advance by what came back, never by what was asked for: servers may cap pages.
    offset += page.records.length;
    if (offset >= page.totalCount) break;
  }
  report(true);
  return {
    versions: collector.versions,
    versionsScanned: collector.versionsScanned,
    pages,
    totalCountFirst: totalCountFirst ?? 0,
    totalCountLast: totalCount ?? 0,
    anomalies: collector.anomalies(),
  };
}
