/**
 * The report store port: a flat key space under one root (report.md §5). Two real
 * implementations: S3 (`s3://bucket/prefix`) and the local file system (`file://path`).
 * Keys are relative to the root and use `/` (e.g. `daily/2026-11-27/report.json`).
 */
export interface StoredObject {
  body: Buffer;
  /** A strong validator of the content, quoted as in an HTTP ETag header. */
  etag: string;
  /**
   * When it was last written (epoch ms), by the store's clock: S3's Last-Modified (the
   * server's, in whole seconds), a file's mtime. Unlike times written into a body by a run,
   * a writer whose clock is wrong cannot set it, so the run lock's expiry and a report's scan
   * start are capped by it.
   */
  modifiedAt: number;
}

export interface ReportStore {
  /** The storage URL, for messages (it holds no secrets). */
  readonly url: string;
  /** Writes a whole object; a reader sees either the old or the new content, never a mix. */
  put(key: string, body: string | Buffer, contentType: string): Promise<void>;
  /**
   * Writes an object only if the one under `key` is still `expected`: the ETag read before, or
   * `null` for "there is none". Returns the new object's ETag, or `undefined` when the
   * condition did not hold (someone else wrote first). Atomic on S3 (`If-Match` /
   * `If-None-Match: *`) and on file storage (see FileStore). It guards the run lock,
   * `latest.json` and the regeneration queue.
   */
  putIf(
    key: string,
    body: string,
    contentType: string,
    expected: string | null,
  ): Promise<string | undefined>;
  /** Removes an object; no error when it does not exist. */
  delete(key: string): Promise<void>;
  /**
   * Removes an object only if its ETag is still `expected`; `false` when it is not (or it is
   * gone). On S3 a conditional DeleteObject (`If-Match`).
   */
  deleteIf(key: string, expected: string): Promise<boolean>;
  /** Whether an object exists under `key`, without reading it. */
  has(key: string): Promise<boolean>;
  /** The object, or `undefined` when it does not exist. */
  get(key: string): Promise<StoredObject | undefined>;
  /** The names directly below `prefix/` that are themselves folders (e.g. the dates under `daily`). */
  listFolders(prefix: string): Promise<string[]>;
  /**
   * A URL a browser can fetch the object from for `expiresInSeconds`, offering it as a download
   * named `downloadName`; `undefined` where the store cannot hand out URLs (file storage).
   */
  downloadUrl(
    key: string,
    downloadName: string,
    expiresInSeconds: number,
  ): Promise<string | undefined>;
}
