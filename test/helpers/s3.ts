import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { DUMMY_ACCOUNT } from "s3rver/lib/models/account.js";
import { honourConditionalWrites } from "./s3-conditions.js";

export interface LocalS3 {
  /** A client for this server; tests hand it to the stores they build. */
  client: S3Client;
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  createBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Client settings that s3rver accepts; `endpoint` may be a server that is not running. */
export function localS3Client(endpoint: string, maxAttempts?: number): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    // s3rver predates the SDK's default CRC32 checksums (and their aws-chunked trailers).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

/**
 * Lets s3rver accept requests signed with this key pair too (it checks that the access key id is one it knows; it does not verify the SigV4 signature itself), as
 * a role's temporary keys would be in AWS.
 */
export function allowS3Keys(accessKeyId: string, secretAccessKey: string): void {
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
}

interface S3rverStore {
  putObject(object: { bucket: string; key: string; content: unknown }): Promise<unknown>;
  getResourcePath(bucket: string, key: string, kind: "object"): string;
}

/**
 * s3rver answers a PUT before its file is written (it does not wait for the write stream to
 * finish), so a GET right after the answer can read a cut or an old file:
 * a race of the stand-in, not of S3, whose PUTs are atomic. Here the answer waits until the
 * file holds the whole new body (its MD5 is the one s3rver computed).
 */
function awaitWholeWrites(server: S3rver): void {
  const store = (server as unknown as { store: S3rverStore }).store;
  const put = store.putObject.bind(store);
  store.putObject = async (object) => {
    const result = (await put(object)) as { size: number; md5: string };
    const file = store.getResourcePath(object.bucket, object.key, "object");
    const deadline = Date.now() + 5_000;
    // The bytes themselves, not the size: a replacement of the same length (a renewed lock)
    // would pass a size check while the file still held the old body.
    const whole = async () =>
      createHash("md5")
        .update(await readFile(file))
        .digest("hex") === result.md5;
    while (!(await whole()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return result;
  };
}

/**
 * Starts s3rver in this process on a free port, storing into a fresh temporary directory.
 * With `conditionalWrites`, it honours S3's If-Match / If-None-Match on writes and deletes
 * (see s3-conditions.ts); plain s3rver ignores them.
 */
export async function startS3(opts: { conditionalWrites?: boolean } = {}): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
  awaitWholeWrites(server);
  if (opts.conditionalWrites === true) honourConditionalWrites(server);
  let address: Awaited<ReturnType<S3rver["run"]>>;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = localS3Client(endpoint);
  return {
    client,
    endpoint,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
