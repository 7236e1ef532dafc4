import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../../src/shared/errors.js";
import { FileStore } from "../../src/storage/file-store.js";
import { S3Store } from "../../src/storage/s3-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { type LocalS3, localS3Client, startS3 } from "../helpers/s3.js";

const JSON_TYPE = "application/json";
const CSV_TYPE = "text/csv; charset=utf-8";

/** Non-ASCII, a formula-looking cell and CRLF rows: what a real usage.csv may hold. */
const CSV = "flavor_code,job\r\nmodelarts.p3.large,Größe 训练 ✓\r\n,'=cmd\r\n";

const BAD_KEYS = [
  "",
  "../escape.txt",
  "daily/../../escape.txt",
  "daily/./report.json",
  "/etc/passwd",
  "daily\\2026-11-27\\report.json",
  "daily//report.json",
  "daily/2026-11-27/",
  "daily/report\0.json",
];

/** One store under test; `open()` gives an empty store for each test. */
interface Subject {
  name: string;
  setup(): Promise<void>;
  open(): Promise<ReportStore>;
  teardown(): Promise<void>;
}

function storeContract(subject: Subject): void {
  describe(`${subject.name} (ReportStore contract)`, () => {
    let store: ReportStore;
    beforeAll(() => subject.setup());
    afterAll(() => subject.teardown());
    beforeEach(async () => {
      store = await subject.open();
    });

    it("returns a UTF-8 string byte for byte", async () => {
      await store.put("daily/2026-11-27/usage.csv", CSV, CSV_TYPE);
      const got = await store.get("daily/2026-11-27/usage.csv");
      expect(got?.body).toEqual(Buffer.from(CSV, "utf8"));
      expect(got?.body.toString("utf8")).toBe(CSV);
    });

    it("returns a Buffer byte for byte, including bytes that are not UTF-8", async () => {
      const body = Buffer.concat([
        Buffer.from('{"name":"ジョブ"}', "utf8"),
        Buffer.from([0, 255, 254]),
      ]);
      await store.put("daily/2026-11-27/report.json", body, JSON_TYPE);
      expect((await store.get("daily/2026-11-27/report.json"))?.body).toEqual(body);
    });

    it("replaces an object on a second put", async () => {
      await store.put("latest.json", '{"report_date":"2026-11-26"}', JSON_TYPE);
      await store.put("latest.json", '{"report_date":"2026-11-27"}', JSON_TYPE);
      expect((await store.get("latest.json"))?.body.toString()).toBe(
        '{"report_date":"2026-11-27"}',
      );
    });

    it("tells whether an object exists without reading it, a folder being no object", async () => {
      await store.put("daily/2026-11-27/report.json", "{}", JSON_TYPE);
      expect(await store.has("daily/2026-11-27/report.json")).toBe(true);
      expect(await store.has("daily/2026-11-28/report.json")).toBe(false);
      expect(await store.has("daily/2026-11-27")).toBe(false);
    });

    it("creates an object only if absent, and deletes it", async () => {
      expect(await store.putIf("run.lock", "a", JSON_TYPE, null)).toBeTypeOf("string");
      expect((await store.get("run.lock"))?.body.toString()).toBe("a");
      await store.delete("run.lock");
      expect(await store.has("run.lock")).toBe(false);
      await store.delete("run.lock"); // deleting what is not there is no error
    });

    it("answers undefined for a key that was never written, or that names a folder", async () => {
      await store.put("daily/2026-11-27/report.json", "{}", JSON_TYPE);
      expect(await store.get("daily/2026-11-28/report.json")).toBeUndefined();
      expect(await store.get("latest.json")).toBeUndefined();
      expect(await store.get("daily/2026-11-27")).toBeUndefined();
    });

    it("keeps the etag while the content stays the same and changes it with the content", async () => {
      await store.put("daily/2026-11-27/report.json", '{"a":1}', JSON_TYPE);
      const first = (await store.get("daily/2026-11-27/report.json"))?.etag;
      expect(first).toMatch(/^"[^"]+"$/);
      expect((await store.get("daily/2026-11-27/report.json"))?.etag).toBe(first);

      // Regenerating with the same bytes must not invalidate clients' caches.
      await store.put("daily/2026-11-27/report.json", Buffer.from('{"a":1}'), JSON_TYPE);
      expect((await store.get("daily/2026-11-27/report.json"))?.etag).toBe(first);

      await store.put("daily/2026-11-27/report.json", '{"a":2}', JSON_TYPE);
      const changed = (await store.get("daily/2026-11-27/report.json"))?.etag;
      expect(changed).toMatch(/^"[^"]+"$/);
      expect(changed).not.toBe(first);
    });

    it("tells when an object was last written, by the store's clock, for put and putIf", async () => {
      // S3's Last-Modified has whole seconds: allow one either side.
      const within = (at: number | undefined, from: number, to: number) => {
        expect(at).toBeGreaterThanOrEqual(from - 1000);
        expect(at).toBeLessThanOrEqual(to + 1000);
      };
      const before = Date.now();
      await store.put("run.lock", '{"expires_at":"2099-01-01T00:00:00.000Z"}', JSON_TYPE);
      const first = await store.get("run.lock");
      within(first?.modifiedAt, before, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const again = Date.now();
      await store.putIf("run.lock", "{}", JSON_TYPE, first?.etag ?? null);
      const second = await store.get("run.lock");
      within(second?.modifiedAt, again, Date.now());
      expect(second?.modifiedAt).toBeGreaterThan(first?.modifiedAt ?? Number.POSITIVE_INFINITY);
    });

    it("lists the date folders under daily, sorted, and no files", async () => {
      // Written out of order; a file beside the folders and folders elsewhere must not show.
      for (const key of [
        "daily/2026-11-27/report.json",
        "daily/2026-11-25/usage.csv",
        "daily/2026-11-26/jobs.csv",
        "daily/2026-11-26/report.json",
        "daily/README.txt",
        "latest.json",
        "other/2026-01-01/report.json",
      ]) {
        await store.put(key, "x", "text/plain");
      }
      const dates = ["2026-11-25", "2026-11-26", "2026-11-27"];
      expect(await store.listFolders("daily")).toEqual(dates);
      expect(await store.listFolders("daily/")).toEqual(dates);
      expect(await store.listFolders("daily/2026-11-26")).toEqual([]);
      expect(await store.listFolders("missing")).toEqual([]);
    });

    it("lists nothing in an empty store", async () => {
      expect(await store.listFolders("daily")).toEqual([]);
    });

    it.each(BAD_KEYS)("rejects the key %j before touching storage", async (key) => {
      await expect(store.put(key, "x", "text/plain")).rejects.toBeInstanceOf(StorageError);
      await expect(store.get(key)).rejects.toBeInstanceOf(StorageError);
      await expect(store.downloadUrl(key, "report.json", 300)).rejects.toBeInstanceOf(StorageError);
    });

    it("rejects a folder prefix that climbs out of the root", async () => {
      await expect(store.listFolders("../daily")).rejects.toBeInstanceOf(StorageError);
      await expect(store.listFolders("/daily")).rejects.toBeInstanceOf(StorageError);
    });
  });
}

// --- file storage --------------------------------------------------------------------------

let fileParent: string;

/**
 * Conditional writes (the run lock, latest.json, the regeneration queue), for stores that
 * honour them. s3rver ignores the conditions, so S3 is held to this against a server that
 * honours them (see the S3 conditional tests).
 */
function conditionalContract(subject: Subject): void {
  describe(`${subject.name} (conditional writes)`, () => {
    let store: ReportStore;
    beforeAll(() => subject.setup());
    afterAll(() => subject.teardown());
    beforeEach(async () => {
      store = await subject.open();
    });

    it("creates only when absent: a second create is refused and changes nothing", async () => {
      const etag = await store.putIf("run.lock", "first", JSON_TYPE, null);
      expect(etag).toBe((await store.get("run.lock"))?.etag);
      expect(await store.putIf("run.lock", "second", JSON_TYPE, null)).toBeUndefined();
      expect((await store.get("run.lock"))?.body.toString()).toBe("first");
    });

    it("replaces only the version that was read", async () => {
      await store.put("latest.json", "v1", JSON_TYPE);
      const v1 = (await store.get("latest.json"))?.etag ?? "";
      const v2 = await store.putIf("latest.json", "v2", JSON_TYPE, v1);
      expect(v2).toBe((await store.get("latest.json"))?.etag);
      // v1 is stale now: a writer that read it loses.
      expect(await store.putIf("latest.json", "v3", JSON_TYPE, v1)).toBeUndefined();
      expect((await store.get("latest.json"))?.body.toString()).toBe("v2");
      // An ETag for an object that is not there matches nothing.
      expect(await store.putIf("gone.json", "x", JSON_TYPE, v1)).toBeUndefined();
      expect(await store.has("gone.json")).toBe(false);
    });

    it("deletes only the version that was read", async () => {
      await store.put("run.lock", "mine", JSON_TYPE);
      const mine = (await store.get("run.lock"))?.etag ?? "";
      await store.put("run.lock", "theirs", JSON_TYPE);
      expect(await store.deleteIf("run.lock", mine)).toBe(false);
      expect((await store.get("run.lock"))?.body.toString()).toBe("theirs");
      const theirs = (await store.get("run.lock"))?.etag ?? "";
      expect(await store.deleteIf("run.lock", theirs)).toBe(true);
      expect(await store.has("run.lock")).toBe(false);
      expect(await store.deleteIf("run.lock", theirs)).toBe(false);
    });

    it("lets exactly one of many writers that read the same version win", async () => {
      await store.put("regenerations.json", "0", JSON_TYPE);
      const read = (await store.get("regenerations.json"))?.etag ?? "";
      const wins = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.putIf("regenerations.json", `writer ${i}`, JSON_TYPE, read),
        ),
      );
      expect(wins.filter((w) => w !== undefined)).toHaveLength(1);
      const creates = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.putIf("new.lock", `c${i}`, JSON_TYPE, null)),
      );
      expect(creates.filter((c) => c !== undefined)).toHaveLength(1);
    });
  });
}

storeContract({
  name: "FileStore",
  async setup() {
    fileParent = await mkdtemp(join(tmpdir(), "file-store-"));
  },
  async open() {
    return new FileStore(await mkdtemp(join(fileParent, "root-")));
  },
  async teardown() {
    await rm(fileParent, { recursive: true, force: true });
  },
});

conditionalContract({
  name: "FileStore",
  async setup() {
    fileParent = await mkdtemp(join(tmpdir(), "file-store-cas-"));
  },
  async open() {
    return new FileStore(await mkdtemp(join(fileParent, "root-")));
  },
  async teardown() {
    await rm(fileParent, { recursive: true, force: true });
  },
});

describe("FileStore", () => {
  let parent: string;
  let root: string;
  let store: FileStore;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), "file-store-"));
    root = join(parent, "reports");
    store = new FileStore(root);
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it("writes nothing outside its root for a key with ..", async () => {
    await expect(store.put("../escape.txt", "x", "text/plain")).rejects.toThrow(/escape\.txt/);
    await expect(stat(join(parent, "escape.txt"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("creates the folders of a key and leaves no temporary file behind", async () => {
    await store.put("daily/2026-11-27/report.json", "{}", JSON_TYPE);
    await store.put("daily/2026-11-27/report.json", '{"a":1}', JSON_TYPE);
    expect(await readdir(join(root, "daily", "2026-11-27"))).toEqual(["report.json"]);
  });

  it("lets a reader see the old or the new content during a put, never a mix", async () => {
    const size = 4 * 1024 * 1024;
    const old = Buffer.alloc(size, "a");
    const next = Buffer.alloc(size, "b");
    await store.put("daily/2026-11-27/jobs.csv", old, CSV_TYPE);
    let writing = true;
    const put = store.put("daily/2026-11-27/jobs.csv", next, CSV_TYPE).finally(() => {
      writing = false;
    });
    while (writing) {
      const body = (await store.get("daily/2026-11-27/jobs.csv"))?.body;
      expect(body?.length).toBe(size);
      expect(body?.equals(old) || body?.equals(next)).toBe(true);
    }
    await put;
    expect((await store.get("daily/2026-11-27/jobs.csv"))?.body.equals(next)).toBe(true);
  });

  it("has no download URL to offer: the API serves files itself", async () => {
    await store.put("daily/2026-11-27/usage.csv", CSV, CSV_TYPE);
    expect(await store.downloadUrl("daily/2026-11-27/usage.csv", "usage.csv", 300)).toBeUndefined();
  });

  it("names the key and the store in the error when the disk refuses a write", async () => {
    // A file where a folder must go: mkdir fails with EEXIST/ENOTDIR.
    await store.put("daily", "not a folder", "text/plain");
    const error = await store
      .put("daily/2026-11-27/report.json", "{}", JSON_TYPE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toContain("daily/2026-11-27/report.json");
    expect((error as StorageError).cause).toBeInstanceOf(Error);
  });
});

// --- S3 (s3rver) ---------------------------------------------------------------------------

const PREFIX = "reports/v1";
let s3: LocalS3;
let bucketCount = 0;

async function freshS3Store(): Promise<{ store: S3Store; bucket: string }> {
  // A bucket per test keeps tests apart while every one of them uses the real prefix.
  bucketCount += 1;
  const bucket = `usage-reports-${bucketCount}`;
  await s3.createBucket(bucket);
  return { store: new S3Store({ bucket, prefix: PREFIX, client: s3.client }), bucket };
}

storeContract({
  name: "S3Store",
  async setup() {
    s3 = await startS3();
  },
  async open() {
    return (await freshS3Store()).store;
  },
  async teardown() {
    await s3.close();
  },
});

conditionalContract({
  name: "S3Store on an S3 that honours conditional writes",
  async setup() {
    s3 = await startS3({ conditionalWrites: true });
  },
  async open() {
    return (await freshS3Store()).store;
  },
  async teardown() {
    await s3.close();
  },
});

describe("S3Store's conditional requests, as sent", () => {
  let server: LocalS3;
  /** Method, key and condition headers of every request the client sent. */
  const sent: { method: string; path: string; ifMatch?: string; ifNoneMatch?: string }[] = [];

  beforeAll(async () => {
    // Plain s3rver (it ignores the conditions): what matters here is what goes on the wire.
    server = await startS3();
    server.client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as {
          method: string;
          path: string;
          headers: Record<string, string>;
        };
        sent.push({
          method: request.method,
          path: request.path,
          ...(request.headers["if-match"] === undefined
            ? {}
            : { ifMatch: request.headers["if-match"] }),
          ...(request.headers["if-none-match"] === undefined
            ? {}
            : { ifNoneMatch: request.headers["if-none-match"] }),
        });
        return next(args);
      },
      { step: "finalizeRequest", name: "recordConditions" },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it("creates with If-None-Match: *, replaces and deletes with If-Match on the ETag read", async () => {
    await server.createBucket("conditions-sent");
    const store = new S3Store({ bucket: "conditions-sent", prefix: "r", client: server.client });
    sent.length = 0;
    const created = await store.putIf("run.lock", "a", JSON_TYPE, null);
    const replaced = await store.putIf("run.lock", "b", JSON_TYPE, created ?? "");
    await store.deleteIf("run.lock", replaced ?? "");
    await store.put("usage.csv", "x", CSV_TYPE);
    expect(sent).toEqual([
      { method: "PUT", path: "/conditions-sent/r/run.lock", ifNoneMatch: "*" },
      { method: "PUT", path: "/conditions-sent/r/run.lock", ifMatch: created },
      { method: "DELETE", path: "/conditions-sent/r/run.lock", ifMatch: replaced },
      // Plain writes carry no condition.
      { method: "PUT", path: "/conditions-sent/r/usage.csv" },
    ]);
    expect(created).toMatch(/^"[0-9a-f]{32}"$/);
  });
});

describe("S3Store", () => {
  let server: LocalS3;
  let store: S3Store;
  let bucket: string;
  beforeAll(async () => {
    server = await startS3();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    bucketCount += 1;
    bucket = `usage-reports-x${bucketCount}`;
    await server.createBucket(bucket);
    store = new S3Store({ bucket, prefix: PREFIX, client: server.client });
  });

  it("names its bucket and prefix in its URL", () => {
    expect(store.url).toBe(`s3://${bucket}/${PREFIX}`);
  });

  it("stores objects under its prefix", async () => {
    await store.put("latest.json", "{}", JSON_TYPE);
    const root = new S3Store({ bucket, prefix: "", client: server.client });
    expect((await root.get(`${PREFIX}/latest.json`))?.body.toString()).toBe("{}");
    expect(await root.listFolders("reports")).toEqual(["v1"]);
  });

  it("hands out a URL that downloads the file as an attachment with its name", async () => {
    await store.put("daily/2026-11-27/usage.csv", CSV, CSV_TYPE);
    const url = await store.downloadUrl("daily/2026-11-27/usage.csv", "usage.csv", 300);
    expect(url).toBeDefined();
    expect(new URL(url ?? "").searchParams.get("X-Amz-Expires")).toBe("300");

    const res = await fetch(url ?? "");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="usage.csv"');
    expect(res.headers.get("content-type")).toBe(CSV_TYPE);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(CSV, "utf8"));
  });

  it("answers 304 on the download URL when If-None-Match carries the current etag", async () => {
    await store.put("daily/2026-11-27/report.json", '{"a":1}', JSON_TYPE);
    const etag = (await store.get("daily/2026-11-27/report.json"))?.etag ?? "";
    const url = (await store.downloadUrl("daily/2026-11-27/report.json", "report.json", 300)) ?? "";

    expect((await fetch(url, { headers: { "If-None-Match": etag } })).status).toBe(304);
    expect((await fetch(url, { headers: { "If-None-Match": '"stale"' } })).status).toBe(200);
  });

  it("refuses a download name that would need quoting in Content-Disposition", async () => {
    await expect(
      store.downloadUrl("daily/2026-11-27/usage.csv", 'usage".csv', 300),
    ).rejects.toBeInstanceOf(StorageError);
  });

  it("follows continuation tokens when listing folders", async () => {
    // s3rver cannot page: its continuation token uses DES, which Node >= 17's OpenSSL 3
    // refuses (HTTP 500). So a scripted S3 answers here, over real HTTP, in two pages.
    const pages = new Map([
      ["", listPage(["2026-11-25", "2026-11-26"], "page-2")],
      ["page-2", listPage(["2026-11-27"], undefined)],
    ]);
    const seen: string[] = [];
    const scripted = await startHttp((url) => {
      const token = url.searchParams.get("continuation-token") ?? "";
      seen.push(`${url.searchParams.get("prefix")} ${url.searchParams.get("delimiter")} ${token}`);
      return pages.get(token);
    });
    const client = localS3Client(scripted.endpoint, 1);
    try {
      const paged = new S3Store({ bucket: "usage-reports", prefix: PREFIX, client });
      expect(await paged.listFolders("daily")).toEqual(["2026-11-25", "2026-11-26", "2026-11-27"]);
      expect(seen).toEqual(["reports/v1/daily/ / ", "reports/v1/daily/ / page-2"]);
    } finally {
      client.destroy();
      await scripted.close();
    }
  });

  it("fails rather than return part of a listing that claims to go on", async () => {
    const scripted = await startHttp(() => listPage(["2026-11-25"], undefined, true));
    const client = localS3Client(scripted.endpoint, 1);
    try {
      const paged = new S3Store({ bucket: "usage-reports", prefix: PREFIX, client });
      await expect(paged.listFolders("daily")).rejects.toThrow(/NextContinuationToken/);
    } finally {
      client.destroy();
      await scripted.close();
    }
  });

  it("throws a StorageError naming the key when S3 cannot be reached", async () => {
    const endpoint = await closedEndpoint();
    const client = localS3Client(endpoint, 1);
    const down = new S3Store({ bucket: "usage-reports", prefix: PREFIX, client });
    try {
      for (const attempt of [
        down.get("daily/2026-11-27/report.json"),
        down.put("daily/2026-11-27/report.json", "{}", JSON_TYPE),
      ]) {
        const error = await attempt.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as StorageError).message).toContain(
          "s3://usage-reports/reports/v1/daily/2026-11-27/report.json",
        );
        expect((error as StorageError).message).not.toContain("S3RVER");
        expect((error as StorageError).cause).toBeDefined();
      }
      const listError = await down.listFolders("daily").catch((e: unknown) => e);
      expect(listError).toBeInstanceOf(StorageError);
      expect((listError as StorageError).message).toContain("reports/v1/daily/");
    } finally {
      client.destroy();
    }
  });

  it("throws a StorageError for a bucket that does not exist", async () => {
    const missing = new S3Store({
      bucket: "no-such-bucket",
      prefix: PREFIX,
      client: server.client,
    });
    await expect(missing.put("latest.json", "{}", JSON_TYPE)).rejects.toThrow(
      /PutObject s3:\/\/no-such-bucket\/reports\/v1\/latest\.json failed: NoSuchBucket/,
    );
  });
});

/** A ListObjectsV2 answer with the given dates as common prefixes under `reports/v1/daily/`. */
function listPage(
  dates: string[],
  next: string | undefined,
  truncated = next !== undefined,
): string {
  const prefixes = dates
    .map((d) => `<CommonPrefixes><Prefix>${PREFIX}/daily/${d}/</Prefix></CommonPrefixes>`)
    .join("");
  const token = next === undefined ? "" : `<NextContinuationToken>${next}</NextContinuationToken>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>usage-reports</Name><Prefix>${PREFIX}/daily/</Prefix><Delimiter>/</Delimiter><MaxKeys>1000</MaxKeys><KeyCount>${dates.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${token}${prefixes}</ListBucketResult>`;
}

/** A local HTTP server answering each GET with `answer(url)` as XML, or 404. */
async function startHttp(
  answer: (url: URL) => string | undefined,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    const body = answer(new URL(req.url ?? "/", "http://localhost"));
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/xml" });
    res.end(body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** An http:// endpoint on a port that was just free: nothing listens there. */
async function closedEndpoint(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return `http://127.0.0.1:${address.port}`;
}
