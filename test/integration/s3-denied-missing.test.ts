import { S3ServiceException } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/storage/s3-store.js";
import { type LocalS3, localS3Client, startS3 } from "../helpers/s3.js";

/**
 * S3 answers a missing key with 403 (not 404) to a role whose s3:ListBucket holds only under
 * an `s3:prefix` condition, as the deployed roles' do. s3rver answers 404 to everyone, so this
 * client turns its 404s on reads into what S3 sends such a role: 403 AccessDenied. The store
 * must still read "absent" (Publish's first run reads many keys that do not exist yet) and
 * must not take a real refusal for absence.
 */

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket("denied-bucket");
});
afterAll(() => s3.close());

/** A client that answers a missing key's GET or HEAD with 403, and can refuse listings too. */
function deniedClient(refuseListing: boolean) {
  const client = localS3Client(s3.endpoint);
  const denied = () =>
    new S3ServiceException({
      name: "AccessDenied",
      $fault: "client",
      $metadata: { httpStatusCode: 403 },
      message: "Access Denied",
    });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (refuseListing && context.commandName === "ListObjectsV2Command") throw denied();
      try {
        return await next(args);
      } catch (error) {
        const read = ["GetObjectCommand", "HeadObjectCommand"].includes(context.commandName ?? "");
        const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : 0;
        if (read && status === 404) throw denied();
        throw error;
      }
    },
    { step: "initialize", name: "denyMissingKeys" },
  );
  return client;
}

describe("a missing key answered 403, as S3 answers a role with a prefix-bound ListBucket", () => {
  it("is absent when a listing of that key shows none", async () => {
    const store = new S3Store({
      bucket: "denied-bucket",
      prefix: "reports",
      client: deniedClient(false),
    });
    await store.put("latest.json", "{}", "application/json");
    expect(await store.get("history.json")).toBeUndefined();
    expect(await store.has("daily/2026-11-27/report.json")).toBe(false);
    // A key that only starts like an existing one is absent too.
    expect(await store.get("latest.js")).toBeUndefined();
    expect((await store.get("latest.json"))?.body.toString()).toBe("{}");
  });

  it("stays an error when the listing is refused too", async () => {
    const store = new S3Store({
      bucket: "denied-bucket",
      prefix: "reports",
      client: deniedClient(true),
    });
    await expect(store.get("history.json")).rejects.toThrow(/GetObject .*history\.json/);
  });
});
