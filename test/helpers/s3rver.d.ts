// s3rver ships no types; this covers only what test/helpers/s3.ts uses.
declare module "s3rver" {
  interface S3rverOptions {
    address?: string;
    /** 0 picks a free port; run() resolves with the bound address. */
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** The little of a Koa context the conditional-write middleware needs. */
  interface S3rverContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    get(header: string): string;
  }
  type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;

  class S3rver {
    constructor(options?: S3rverOptions);
    /** Koa's middleware stack; s3rver's router is the last entry. */
    middleware: S3rverMiddleware[];
    /** Where objects are kept; getMetadata throws for a missing object. */
    store: { getMetadata(bucket: string, key: string): Promise<{ etag: string }> };
    /** Starts the HTTP server; resolves with `server.address()` of the listening socket. */
    run(): Promise<import("node:net").AddressInfo>;
    close(): Promise<void>;
    reset(): void;
  }

  export = S3rver;
}

// The account s3rver checks signatures against; more key pairs can be added to it.
declare module "s3rver/lib/models/account.js" {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
  export const DUMMY_ACCOUNT: AWSAccount;
}

// The error s3rver answers with (its own XML body, status by code).
declare module "s3rver/lib/models/error.js" {
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
  }
  export = S3Error;
}
