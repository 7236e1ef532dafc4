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

  class S3rver {
    constructor(options?: S3rverOptions);
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
