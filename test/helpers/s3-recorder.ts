import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A recording HTTP proxy in front of s3rver, for the IAM audit of the deployed shape: every
 * request is passed on unchanged (method, path, headers, the Host header included, since SigV4
 * signs it; bodies piped both ways, nothing buffered) and written down with who signed it, so
 * that each call can be held against its caller's role (iam-policy.ts).
 *
 * Path-style addressing only (`/bucket/key`), as the SDK uses against a loopback endpoint; a
 * virtual-hosted request is recorded with an empty bucket, which the audit does not map.
 */

export interface S3Call {
  readonly method: string;
  /** Empty for a request to the service root (ListBuckets). */
  readonly bucket: string;
  /** The object key, URL-decoded; empty for a bucket request. */
  readonly key: string;
  /** The query string as sent, without the `?`, the signature's parameters left out. */
  readonly query: string;
  /** From the Authorization header's `Credential=` or a presigned URL's `X-Amz-Credential`. */
  readonly accessKeyId: string | undefined;
  readonly presigned: boolean;
  /** The request headers that change which permissions S3 checks. */
  readonly headers: {
    readonly ifMatch?: string;
    readonly ifNoneMatch?: string;
    readonly copySource?: string;
  };
  /** s3rver's status (set once it answers; 0 if the request never got an answer). */
  status: number;
}

export interface S3Recorder {
  /** `http://127.0.0.1:<port>`: the endpoint to give the functions instead of s3rver's. */
  readonly endpoint: string;
  readonly calls: readonly S3Call[];
  close(): Promise<void>;
}

const AUTH_CREDENTIAL = /Credential=([^/\s,]+)\//;
/** Query parameters of a presigned URL's signature: they say who, not what. */
const SIGNATURE_PARAMETER =
  /^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token)$/i;

function callOf(method: string, url: string, headers: Record<string, unknown>): S3Call {
  const parsed = new URL(url, "http://recorder");
  const [, bucket = "", ...rest] = parsed.pathname.split("/");
  const credential = parsed.searchParams.get("X-Amz-Credential");
  const auth = typeof headers.authorization === "string" ? headers.authorization : "";
  const query = [...parsed.searchParams]
    .filter(([name]) => !SIGNATURE_PARAMETER.test(name))
    .map(([name, value]) => (value === "" ? name : `${name}=${value}`))
    .join("&");
  const header = (name: string) => (typeof headers[name] === "string" ? headers[name] : undefined);
  const ifMatch = header("if-match");
  const ifNoneMatch = header("if-none-match");
  const copySource = header("x-amz-copy-source");
  return {
    method,
    bucket: decodeURIComponent(bucket),
    key: rest.map(decodeURIComponent).join("/"),
    query,
    accessKeyId: credential?.split("/")[0] ?? AUTH_CREDENTIAL.exec(auth)?.[1],
    presigned: credential !== null,
    headers: {
      ...(ifMatch === undefined ? {} : { ifMatch }),
      ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }),
      ...(copySource === undefined ? {} : { copySource }),
    },
    status: 0,
  };
}

/** Starts the proxy on a free loopback port, forwarding to `target` (s3rver's endpoint). */
export async function startS3Recorder(target: string): Promise<S3Recorder> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const calls: S3Call[] = [];
  const server = createServer((req, res) => {
    const call = callOf(req.method ?? "GET", req.url ?? "/", req.headers);
    calls.push(call);
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // Unchanged, Host included: s3rver checks the signature over the headers as signed.
        headers: req.headers,
        agent,
      },
      (answer) => {
        call.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(String(error));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps sockets alive; without this, close() waits for them to time out.
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
