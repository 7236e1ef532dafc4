import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { type PriceTable, parsePriceTable } from "../report/prices.js";
import { ConfigError } from "../shared/errors.js";

/**
 * Configuration documents kept in files or S3: the price table (§9) and the sources (§10).
 *
 * The container's S3 client for these documents, made on the first s3:// table and kept for the
 * container's life (style §6): a warm Lambda reuses its connections and credentials instead of
 * building a client a run.
 */
let sharedClient: S3Client | undefined;

function shared(make: () => S3Client): S3Client {
  sharedClient ??= make();
  return sharedClient;
}

export interface DocumentOptions {
  cwd?: string | undefined;
  /** Used instead of the shared client (tests, custom endpoints). */
  s3Client?: S3Client | undefined;
}

/** Reads PRICE_TABLE: a local JSON file or an `s3://bucket/key` object (report.md §9). */
export async function loadPriceTable(
  location: string,
  opts: DocumentOptions = {},
): Promise<PriceTable> {
  return parsePriceTable(await readDocument(location, "PRICE_TABLE", opts), location);
}

/**
 * The text of a configuration document (PRICE_TABLE, REPORT_SOURCES): a local file (`file://`
 * or a path, relative to `cwd`) or an `s3://bucket/key` object. ConfigError naming `setting`.
 */
export async function readDocument(
  location: string,
  setting: string,
  opts: DocumentOptions = {},
): Promise<string> {
  let text: string;
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (s3 !== null) {
    const [, bucket, key] = s3;
    try {
      // Loaded only for an s3:// table: a run with a local table never loads the AWS SDK.
      const { GetObjectCommand, S3Client: Client } = await import("@aws-sdk/client-s3");
      const client = opts.s3Client ?? shared(() => new Client({}));
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = (await res.Body?.transformToString("utf8")) ?? "";
    } catch (cause) {
      throw new ConfigError(`${setting} ${location} could not be read from S3`, { cause });
    }
  } else {
    const path = resolve(opts.cwd ?? process.cwd(), location.replace(/^file:\/\//, ""));
    try {
      text = await readFile(path, "utf8");
    } catch (cause) {
      throw new ConfigError(`${setting} ${location} could not be read (${path})`, { cause });
    }
  }
  return text;
}
