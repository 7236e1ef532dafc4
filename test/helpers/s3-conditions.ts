import type S3rver from "s3rver";
import S3Error from "s3rver/lib/models/error.js";

/**
 * S3's conditional writes on top of s3rver, which ignores them: PutObject with
 * `If-None-Match: *` or `If-Match: <etag>`, and DeleteObject with `If-Match`. No S3
 * implementation that runs on these machines honours all of them (we tried: s3rver, fauxqs,
 * Ceph radosgw from Debian, which takes If-None-Match but rejects quoted ETags in If-Match and
 * ignores it on delete; MinIO and others are not installable here), so the stores' conditional
 * paths are held to S3's documented answers by this middleware, and the request shapes by a
 * recording middleware on the client (see the S3 tests).
 *
 * As S3 does: 412 PreconditionFailed when the condition fails, 404 NoSuchKey for If-Match on
 * a key that does not exist; the check and the write of one key happen one at a time, and a
 * read of a key waits for a conditional write of it to finish (S3 replaces objects atomically;
 * s3rver rewrites the file in place). Unlike S3 the condition is checked before the signature.
 */

const unquote = (tag: string) => tag.trim().replace(/^W\//, "").replace(/^"|"$/g, "");

export function honourConditionalWrites(server: S3rver): void {
  const busy = new Map<string, Promise<void>>();
  const middleware: S3rver["middleware"][number] = async (ctx, next) => {
    const { method, query } = ctx;
    const isObjectWrite =
      (method === "PUT" &&
        !("partNumber" in query) &&
        !("tagging" in query) &&
        !("acl" in query)) ||
      (method === "DELETE" && !("uploadId" in query) && !("tagging" in query));
    const ifMatch = ctx.get("if-match");
    const ifNoneMatch = ctx.get("if-none-match");
    const [, bucket, ...rest] = ctx.path.split("/");
    const key = rest.map(decodeURIComponent).join("/");
    if (!bucket || !key) return next();
    const isRead = method === "GET" || method === "HEAD";
    // s3rver replaces an object's file in place, so a read during a write can fail ("aborted");
    // S3 replaces objects atomically. Reads take their turn with the writes of their key.
    if (!isRead && (!isObjectWrite || (ifMatch === "" && ifNoneMatch === ""))) return next();
    // One conditional request per key at a time, so that check and write cannot interleave.
    const id = `${bucket}/${key}`;
    const before = busy.get(id) ?? Promise.resolve();
    let done = () => {};
    const mine = before.then(() => new Promise<void>((resolve) => (done = resolve)));
    busy.set(id, mine);
    await before;
    try {
      if (isRead) return await next();
      const etag = await server.store.getMetadata(bucket, key).then(
        (m) => m.etag,
        () => undefined,
      );
      if (ifNoneMatch !== "" && method === "PUT") {
        if (ifNoneMatch.trim() !== "*") {
          throw new S3Error("NotImplemented", "If-None-Match only supports *", {
            Header: "If-None-Match",
          });
        }
        if (etag !== undefined) {
          throw new S3Error(
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            { Condition: "If-None-Match" },
          );
        }
      }
      if (ifMatch !== "") {
        if (etag === undefined) {
          throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: key });
        }
        if (!ifMatch.split(",").some((t) => t.trim() === "*" || unquote(t) === unquote(etag))) {
          throw new S3Error(
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            { Condition: "If-Match" },
          );
        }
      }
      await next();
    } finally {
      done();
      if (busy.get(id) === mine) busy.delete(id);
    }
  };
  // Just before the router, the last of s3rver's middleware.
  server.middleware.splice(server.middleware.length - 1, 0, middleware);
}
