/**
 * The report store port: a flat key space under one root (report.md §5). Two real
 * implementations: S3 (`s3://bucket/prefix`) and the local file system (`file://path`).
 * Keys are relative to the root and use `/` (e.g. `daily/2026-11-27/report.json`).
 */
export interface StoredObject {
  body: Buffer;
  /** A strong validator of the content, quoted as in an HTTP ETag header. */
  etag: string;
}

export interface ReportStore {
  /** The storage URL, for messages (it holds no secrets). */
  readonly url: string;
  /** Writes a whole object; a reader sees either the old or the new content, never a mix. */
  put(key: string, body: string | Buffer, contentType: string): Promise<void>;
  /**
   * Writes an object only if none exists under `key`; `false` when one does. Atomic on file
   * storage (exclusive create) and on S3 (`If-None-Match: *`); it guards the run lock.
   */
  create(key: string, body: string, contentType: string): Promise<boolean>;
  /** Removes an object; no error when it does not exist. */
  delete(key: string): Promise<void>;
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
