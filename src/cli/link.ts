import { httpOrigin, makeLink, parseTtl } from "../api/links.js";
import { parseLinkKey } from "../app/config.js";
import { ConfigError, UsageReportError } from "../shared/errors.js";
import { type CliIo, fail, parseOptions } from "./main.js";

/**
 * `npm run link -- --path /reports/latest [--ttl 7d] [--base https://…]`: prints a signed
 * link a plain browser can open until it expires (at most 30 days). A path of one source of a
 * day or month (`/reports/2026-11-27/sources/research.vision`) makes a team's link, which opens
 * that source's slice only. The key is the deployed
 * one (REPORT_LINK_KEY_SECRET, read with your AWS credentials) or the local one
 * (REPORT_LINK_KEY). Exit codes: 0 printed, 2 bad arguments or configuration, 1 the key could
 * not be read.
 */

const USAGE =
  "usage: npm run link -- --path /reports/latest|/reports|/reports/YYYY-MM-DD|/reports/months/YYYY-MM|/reports/YYYY-MM-DD/sources/NAME|/reports/months/YYYY-MM/sources/NAME [--ttl 7d] [--base URL]";

async function readKey(io: CliIo): Promise<Buffer> {
  const source = parseLinkKey({ ...io.env, AWS_LAMBDA_FUNCTION_NAME: undefined });
  if (source === null) {
    throw new ConfigError(
      "no link key: set REPORT_LINK_KEY_SECRET (the deployed secret) or REPORT_LINK_KEY (local)",
    );
  }
  if (source.kind === "value") return Buffer.from(source.token.reveal().trim(), "utf8");
  const { GetSecretValueCommand, SecretsManagerClient } = await import(
    "@aws-sdk/client-secrets-manager"
  );
  const client = new SecretsManagerClient({});
  try {
    const res = await client.send(new GetSecretValueCommand({ SecretId: source.secretId }));
    return Buffer.from((res.SecretString ?? "").trim(), "utf8");
  } catch (error) {
    // The SDK's message names the secret and the reason; it holds no secret value.
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageReportError(`the link key could not be read: ${reason}`, { cause: error });
  } finally {
    client.destroy();
  }
}

export async function runLinkCli(argv: readonly string[], io: CliIo): Promise<number> {
  let path: string;
  let ttlSeconds: number;
  let base: string;
  try {
    const values = parseOptions(
      argv,
      { path: { type: "string" }, ttl: { type: "string" }, base: { type: "string" } },
      USAGE,
    );
    if (values.path === undefined) throw new ConfigError(`--path is required. ${USAGE}`);
    path = values.path;
    const ttl = parseTtl(values.ttl ?? "7d");
    if (ttl === undefined)
      throw new ConfigError(`--ttl "${values.ttl}" is not like 30m, 12h or 7d`);
    ttlSeconds = ttl;
    const origin = httpOrigin(values.base ?? "http://localhost:3000");
    if (origin === undefined) {
      throw new ConfigError(
        `--base ${JSON.stringify(values.base?.slice(0, 80))} is not an http(s) URL, such as the API's https://…`,
      );
    }
    base = origin;
  } catch (error) {
    return fail(io, error);
  }
  try {
    const key = await readKey(io);
    // A path or ttl it refuses is a LinkRequestError: exit code 2.
    const link = makeLink(key, { path, ttlSeconds, now: io.now(), base });
    io.stdout.write(`${link.url}\n`);
    io.stderr.write(`opens ${link.scope} until ${link.expires_at}\n`);
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}
