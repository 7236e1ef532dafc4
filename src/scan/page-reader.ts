import type { ListPage, VersionSource } from "../modelarts/client.js";
import { IncompleteScanError } from "../shared/errors.js";
import type { VersionCollector } from "./collector.js";
import type { Page } from "./page-chain.js";

export interface ScanProgress {
  readonly pages: number;
  /** Distinct records read so far, valid or malformed. */
  readonly versionsRead: number;
  /** `undefined` until the first page is in. */
  readonly totalCount: number | undefined;
  readonly done: boolean;
}

/**
 * Reads pages of the listing for one scan: each request, the check of its answer, its records
 * handed to the collector, and the counts the scan reports (pages, the listing's last total).
 */
export class PageReader {
  /** Successful listing calls. */
  pages = 0;
  /** Calls made beyond the plan to bridge pages that did not overlap (counted by the walk). */
  repairPages = 0;
  /** The listing's total as the last page answered it; `undefined` before the first. */
  totalCount: number | undefined;
  #lastProgress = -1;
  /** Pages answered so far, in the order their answers were read (each page's `seq`). */
  #read = 0;
  readonly collector: VersionCollector;
  readonly #source: VersionSource;
  readonly #pageSize: number;
  readonly #onProgress: ((progress: ScanProgress) => void) | undefined;
  readonly #signal: AbortSignal;
  readonly #fail: (error: unknown) => void;

  constructor(opts: {
    readonly collector: VersionCollector;
    readonly source: VersionSource;
    readonly pageSize: number;
    readonly onProgress?: ((progress: ScanProgress) => void) | undefined;
    readonly signal: AbortSignal;
    /** Ends the scan with this error, before it travels up (see `scanVersions`). */
    readonly fail: (error: unknown) => void;
  }) {
    this.collector = opts.collector;
    this.#source = opts.source;
    this.#pageSize = opts.pageSize;
    this.#onProgress = opts.onProgress;
    this.#signal = opts.signal;
    this.#fail = opts.fail;
  }

  /** Reports progress: once per page read, and once when done. */
  progress(done: boolean): void {
    if (!done && this.pages === this.#lastProgress) return;
    this.#lastProgress = this.pages;
    this.#onProgress?.({
      pages: this.pages,
      versionsRead: this.collector.recordsRead,
      totalCount: this.totalCount,
      done,
    });
  }

  /** The page at `offset`, its records collected. */
  async read(offset: number): Promise<Page> {
    let page: ListPage;
    try {
      page = await this.#source.listPage(offset, this.#pageSize, { signal: this.#signal });
    } catch (error) {
      this.#fail(error);
      throw error;
    }
    this.#signal.throwIfAborted();
    if (page.records.length === 0 && offset < page.totalCount) {
      // The HTTP client retries such a page as a fault; a source that still sends one cannot
      // be trusted to have shown everything.
      throw new IncompleteScanError(
        `the listing answered an empty page at offset ${offset} of ${page.totalCount} versions`,
      );
    }
    this.pages++;
    this.totalCount = page.totalCount;
    const keys = this.collector.addPage(page.records);
    this.progress(false);
    this.#read += 1;
    return {
      offset,
      seq: this.#read,
      count: page.records.length,
      totalCount: page.totalCount,
      keys,
    };
  }
}
