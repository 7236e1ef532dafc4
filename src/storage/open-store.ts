import { isAbsolute, resolve } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { ConfigError } from "../shared/errors.js";
import { FileStore } from "./file-store.js";
import type { S3StoreOptions } from "./s3-store.js";
import type { ReportStore, StoredObject } from "./store.js";

export interface OpenStoreOptions {
  /** Passed to the S3 store instead of a client of its own (tests, custom endpoints). */
  s3Client?: S3Client;
  /** Directory that a relative `file://./path` is resolved against; default `process.cwd()`. */
  cwd?: string;
}

/** Bucket naming rules, loosely: lower-case letters, digits, dots and hyphens, 3 to 63 long. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `ftp://user:pass@host` must not end up in a log line. */
function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1***@");
}

function invalid(url: string, why: string): ConfigError {
  return new ConfigError(`REPORT_STORAGE ${JSON.stringify(redact(url))} ${why}`);
}

/**
 * Opens the store named by `REPORT_STORAGE` (report.md §5): `s3://bucket/prefix` or
 * `file://path`. `file://` is read literally, not as a WHATWG URL: `file://./reports` is
 * relative to `cwd` and `file:///tmp/x` is absolute; no percent-decoding.
 */
export function openStore(url: string, opts: OpenStoreOptions = {}): ReportStore {
  if (url.startsWith("s3://")) {
    const rest = url.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? "" : rest.slice(slash + 1).replace(/\/+$/, "");
    if (!BUCKET.test(bucket)) throw invalid(url, `has an invalid bucket name`);
    if (prefix !== "" && prefix.split("/").some((s) => s === "" || s === "." || s === "..")) {
      throw invalid(url, "has an empty, . or .. segment in its prefix");
    }
    return new LazyS3Store({
      bucket,
      prefix,
      ...(opts.s3Client === undefined ? {} : { client: opts.s3Client }),
    });
  }
  if (url.startsWith("file://")) {
    const path = url.slice("file://".length);
    if (path === "") throw invalid(url, "has no path");
    if (path.includes("\0")) throw invalid(url, "contains a NUL character");
    const root = isAbsolute(path) ? resolve(path) : resolve(opts.cwd ?? process.cwd(), path);
    return new FileStore(root, url);
  }
  throw invalid(url, "is not an s3:// or file:// URL");
}

/**
 * An S3Store whose module (and the AWS SDK behind it) is loaded on first use: a command that
 * works on file storage never loads the SDK, and starts that much faster.
 */
class LazyS3Store implements ReportStore {
  readonly url: string;
  readonly #opts: S3StoreOptions;
  #store: Promise<ReportStore> | undefined;

  constructor(opts: S3StoreOptions) {
    this.#opts = opts;
    this.url = `s3://${opts.bucket}/${opts.prefix.replace(/^\/+|\/+$/g, "")}`;
  }

  #s3(): Promise<ReportStore> {
    this.#store ??= import("./s3-store.js").then((m) => new m.S3Store(this.#opts));
    return this.#store;
  }

  async put(key: string, body: string | Buffer, contentType: string): Promise<void> {
    return (await this.#s3()).put(key, body, contentType);
  }
  async putIf(key: string, body: string, contentType: string, expected: string | null) {
    return (await this.#s3()).putIf(key, body, contentType, expected);
  }
  async delete(key: string): Promise<void> {
    return (await this.#s3()).delete(key);
  }
  async deleteIf(key: string, expected: string): Promise<boolean> {
    return (await this.#s3()).deleteIf(key, expected);
  }
  async has(key: string): Promise<boolean> {
    return (await this.#s3()).has(key);
  }
  async get(key: string): Promise<StoredObject | undefined> {
    return (await this.#s3()).get(key);
  }
  async listFolders(prefix: string): Promise<string[]> {
    return (await this.#s3()).listFolders(prefix);
  }
  async downloadUrl(key: string, downloadName: string, expiresInSeconds: number) {
    return (await this.#s3()).downloadUrl(key, downloadName, expiresInSeconds);
  }
}
