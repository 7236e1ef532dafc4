import { mkdtemp, rm } from "node:fs/promises";
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
 * Lets s3rver accept requests signed with this key pair too (it checks SigV4 signatures), as
 * a role's temporary keys would be in AWS.
 */
export function allowS3Keys(accessKeyId: string, secretAccessKey: string): void {
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
}

/**
 * Starts s3rver in this process on a free port, storing into a fresh temporary directory.
 * With `conditionalWrites`, it honours S3's If-Match / If-None-Match on writes and deletes
 * (see s3-conditions.ts); plain s3rver ignores them.
 */
export async function startS3(opts: { conditionalWrites?: boolean } = {}): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
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
