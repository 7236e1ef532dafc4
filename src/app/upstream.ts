import * as z from "zod";
import {
  akskAuth,
  iamPasswordAuth,
  type RequestAuthenticator,
  staticTokenAuth,
} from "../modelarts/auth.js";
import { ModelArtsClient } from "../modelarts/client.js";
import { DEFAULT_RETRY_POLICY } from "../modelarts/retry.js";
import { ConfigError } from "../shared/errors.js";
import type { Log } from "../shared/log.js";
import { parseEndpoint, type UpstreamAuth, type UpstreamConfig } from "./config.js";

/**
 * Wires the upstream side in one place: credentials → authenticator → HTTP client.
 * Credentials kept in AWS Secrets Manager (the deployed form) are a JSON document holding one
 * of the three forms; it is fetched through `fetchSecret`, given by the caller.
 */

const secretDocument = z.union([
  z.object({ token: z.string().min(1) }).strict(),
  z
    .object({ ak: z.string().min(1), sk: z.string().min(1), security_token: z.string().optional() })
    .strict(),
  z
    .object({
      iam_endpoint: z.string().min(1),
      username: z.string().min(1),
      password: z.string().min(1),
      domain: z.string().min(1),
    })
    .strict(),
]);

export type FetchSecret = (secretId: string) => Promise<string>;

async function authenticatorFor(
  auth: UpstreamAuth,
  projectId: string,
  timeoutMs: number,
  fetchSecret: FetchSecret | undefined,
): Promise<RequestAuthenticator> {
  switch (auth.kind) {
    case "token":
      return staticTokenAuth(auth.token.reveal());
    case "aksk":
      return akskAuth({
        ak: auth.ak,
        sk: auth.sk.reveal(),
        securityToken: auth.securityToken?.reveal(),
        projectId,
      });
    case "iam":
      return iamPasswordAuth({
        iamEndpoint: auth.iamEndpoint,
        username: auth.username,
        password: auth.password.reveal(),
        domain: auth.domain,
        projectId,
        timeoutMs,
      });
    case "secret": {
      if (fetchSecret === undefined) {
        throw new ConfigError(
          "MODELARTS_CREDENTIALS_SECRET is set but no secret store is available here",
        );
      }
      let doc: z.infer<typeof secretDocument>;
      try {
        doc = secretDocument.parse(JSON.parse(await fetchSecret(auth.secretId)));
      } catch {
        // The secret's content must not reach the message: name only what was expected.
        throw new ConfigError(
          `secret ${auth.secretId} is not a JSON object with {token}, {ak, sk} or {iam_endpoint, username, password, domain}`,
        );
      }
      if ("token" in doc) return staticTokenAuth(doc.token);
      if ("ak" in doc)
        return akskAuth({ ak: doc.ak, sk: doc.sk, securityToken: doc.security_token, projectId });
      let iamEndpoint: string;
      try {
        // The same rule as IAM_ENDPOINT: https, plain http only on loopback, no path.
        iamEndpoint = parseEndpoint(doc.iam_endpoint, "iam_endpoint");
      } catch (error) {
        throw new ConfigError(
          `secret ${auth.secretId}: iam_endpoint must be an https:// base URL (http:// only on loopback) with no path`,
          { cause: error },
        );
      }
      return iamPasswordAuth({
        iamEndpoint,
        username: doc.username,
        password: doc.password,
        domain: doc.domain,
        projectId,
        timeoutMs,
      });
    }
  }
}

export async function createClient(
  upstream: UpstreamConfig,
  opts: {
    log?: Log | undefined;
    fetchSecret?: FetchSecret | undefined;
    /** Epoch ms no request may outlive (the Lambda timeout less a margin). */
    deadline?: number | undefined;
  } = {},
): Promise<ModelArtsClient> {
  const auth = await authenticatorFor(
    upstream.auth,
    upstream.projectId,
    upstream.timeoutMs,
    opts.fetchSecret,
  );
  return new ModelArtsClient({
    endpoint: upstream.endpoint,
    projectId: upstream.projectId,
    workspaceId: upstream.workspaceId,
    poolId: upstream.poolId,
    auth,
    timeoutMs: upstream.timeoutMs,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: upstream.maxAttempts, deadline: opts.deadline },
    log: opts.log,
  });
}
