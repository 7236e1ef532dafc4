import { createHash } from "node:crypto";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { StorageError } from "../shared/errors.js";
import { assertValidKey, normalizeFolderPrefix } from "./file-store.js";
import type { ReportStore, StoredObject } from "./store.js";

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix of the report root, without leading or trailing `/`; `""` for the bucket root. */
  prefix: string;
  /** Defaults to one client with the SDK's default configuration (region, credentials). */
  client?: S3Client;
}

function describe(error: unknown): string {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    return `${error.name}${status === undefined ? "" : ` (HTTP ${status})`}: ${error.message}`;
  }
  if (error instanceof Error) {
    // Connection errors: the code (ECONNREFUSED, ...) says more than a sometimes-empty message.
    const code = "code" in error && typeof error.code === "string" ? `${error.code} ` : "";
    return `${code}${error.message}`.trim() || error.name;
  }
  return String(error);
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)
  );
}

/**
 * 412 Precondition Failed: the condition did not hold. 409 ConditionalRequestConflict: another
 * conditional write to the key was in progress; either way, someone else got there first.
 */
function isConditionFailure(error: unknown): boolean {
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  return status === 412 || status === 409;
}

/** A name safe to put between the quotes of `filename="..."` without escaping. */
const SAFE_DOWNLOAD_NAME = /^[A-Za-z0-9._-]+$/;

/** Report storage in an S3 bucket under a prefix (`s3://bucket/prefix`). */
export class S3Store implements ReportStore {
  readonly url: string;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #client: S3Client;

  constructor(opts: S3StoreOptions) {
    this.#bucket = opts.bucket;
    this.#prefix = opts.prefix.replace(/^\/+|\/+$/g, "");
    // One client per store, created here only when the caller did not pass one (style §6).
    this.#client = opts.client ?? new S3Client({});
    this.url = `s3://${this.#bucket}/${this.#prefix}`;
  }

  #key(key: string): string {
    assertValidKey(key, this.url);
    return this.#prefix === "" ? key : `${this.#prefix}/${key}`;
  }

  #fail(operation: string, key: string, error: unknown): StorageError {
    return new StorageError(
      `S3 ${operation} s3://${this.#bucket}/${key} failed: ${describe(error)}`,
      { cause: error },
    );
  }

  async put(key: string, body: string | Buffer, contentType: string): Promise<void> {
    const fullKey = this.#key(key);
    try {
      // A whole string/Buffer, never a stream: the SDK then sends a plain Content-Length
      // upload (streams become aws-chunked uploads, which s3rver and some S3 clones reject).
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: fullKey,
          Body: body,
          ContentType: contentType,
        }),
      );
    } catch (error) {
      throw this.#fail("PutObject", fullKey, error);
    }
  }

  async putIf(
    key: string,
    body: string,
    contentType: string,
    expected: string | null,
  ): Promise<string | undefined> {
    const fullKey = this.#key(key);
    try {
      const res = await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: fullKey,
          Body: body,
          ContentType: contentType,
          // S3 conditional writes: 412 when the object is not (or no longer) the one read.
          ...(expected === null ? { IfNoneMatch: "*" } : { IfMatch: expected }),
        }),
      );
      // S3 answers a PUT with the new ETag; a clone that does not is read back.
      return res.ETag ?? (await this.get(key))?.etag;
    } catch (error) {
      // If-Match on a key that is gone: 404 NoSuchKey, the condition did not hold either.
      if (isConditionFailure(error) || (expected !== null && isNotFound(error))) return undefined;
      throw this.#fail("PutObject (conditional)", fullKey, error);
    }
  }

  async deleteIf(key: string, expected: string): Promise<boolean> {
    const fullKey = this.#key(key);
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#bucket, Key: fullKey, IfMatch: expected }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error) || isNotFound(error)) return false;
      throw this.#fail("DeleteObject (conditional)", fullKey, error);
    }
  }

  async delete(key: string): Promise<void> {
    const fullKey = this.#key(key);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: fullKey }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw this.#fail("DeleteObject", fullKey, error);
    }
  }

  async has(key: string): Promise<boolean> {
    const fullKey = this.#key(key);
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: fullKey }));
      return true;
    } catch (error) {
      if (isNotFound(error) || (await this.#deniedButAbsent(fullKey, error))) return false;
      throw this.#fail("HeadObject", fullKey, error);
    }
  }

  /**
   * S3 answers a missing key with 404 only to a caller allowed `s3:ListBucket` on the bucket
   * as such; a role whose ListBucket is conditioned on `s3:prefix` (the deployment's: only
   * `reports/*`) gets 403 for it, as it would for a key it may not read. A 403 is taken for
   * "absent" only when a listing of exactly that key, which the prefix condition allows, shows
   * none; otherwise (the listing refused too, or the key there) it stays the error it is.
   */
  async #deniedButAbsent(fullKey: string, error: unknown): Promise<boolean> {
    if (!(error instanceof S3ServiceException) || error.$metadata.httpStatusCode !== 403) {
      return false;
    }
    try {
      const res = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: fullKey, MaxKeys: 1 }),
      );
      return !(res.Contents ?? []).some((o) => o.Key === fullKey);
    } catch {
      return false;
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const fullKey = this.#key(key);
    try {
      const res = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: fullKey }),
      );
      const body = Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array());
      // S3 always sends an ETag; the fallback keeps the contract if a clone does not.
      const etag = res.ETag ?? `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"`;
      // S3 always sends Last-Modified; without it (a clone), "now" makes the caps no looser
      // than the times written in the object itself.
      return { body, etag, modifiedAt: res.LastModified?.getTime() ?? Date.now() };
    } catch (error) {
      if (isNotFound(error) || (await this.#deniedButAbsent(fullKey, error))) return undefined;
      throw this.#fail("GetObject", fullKey, error);
    }
  }

  async listFolders(prefix: string): Promise<string[]> {
    const folder = normalizeFolderPrefix(prefix, this.url);
    const base = [this.#prefix, folder].filter((part) => part !== "").join("/");
    const listPrefix = base === "" ? "" : `${base}/`;
    const names = new Set<string>();
    let token: string | undefined;
    try {
      do {
        const res = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: listPrefix,
            Delimiter: "/",
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
        for (const common of res.CommonPrefixes ?? []) {
          const name = common.Prefix?.slice(listPrefix.length, -1);
          // An empty name comes from a key like `daily//x`; it is not a folder of ours.
          if (name) names.add(name);
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
        if (res.IsTruncated && token === undefined) {
          // Returning what we have would silently drop dates from the report index.
          throw new Error("truncated answer without a NextContinuationToken");
        }
      } while (token !== undefined);
    } catch (error) {
      throw this.#fail("ListObjectsV2", listPrefix, error);
    }
    return [...names].sort();
  }

  async downloadUrl(
    key: string,
    downloadName: string,
    expiresInSeconds: number,
  ): Promise<string | undefined> {
    const fullKey = this.#key(key);
    if (!SAFE_DOWNLOAD_NAME.test(downloadName)) {
      throw new StorageError(
        `download name ${JSON.stringify(downloadName)} is not a plain file name`,
      );
    }
    try {
      // Presigning is local (no request); it fails only on missing credentials or config.
      return await getSignedUrl(
        this.#client,
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: fullKey,
          ResponseContentDisposition: `attachment; filename="${downloadName}"`,
        }),
        { expiresIn: expiresInSeconds },
      );
    } catch (error) {
      throw this.#fail("presign GetObject", fullKey, error);
    }
  }
}
