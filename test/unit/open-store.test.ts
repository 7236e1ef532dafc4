import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../src/shared/errors.js";
import { FileStore } from "../../src/storage/file-store.js";
import { openStore } from "../../src/storage/open-store.js";

// Opening an S3 store does no I/O (presigning is local), so no bucket is needed.
const client = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});

/** The file a store would use for `key`: its presigned URL path (S3) or nothing (files). */
async function s3Path(url: string, key: string): Promise<string> {
  const store = openStore(url, { s3Client: client });
  const signed = await store.downloadUrl(key, "report.json", 60);
  return decodeURIComponent(new URL(signed ?? "").pathname);
}

describe("openStore", () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), "open-store-"));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(cwd, { recursive: true, force: true });
  });

  it("opens an S3 store with a bucket and a prefix", async () => {
    const store = openStore("s3://usage-reports/reports/v1", { s3Client: client });
    expect(store.url).toBe("s3://usage-reports/reports/v1");
    // Virtual-hosted style: the bucket is in the host name, prefix and key in the path.
    expect(await s3Path("s3://usage-reports/reports/v1", "latest.json")).toBe(
      "/reports/v1/latest.json",
    );
  });

  it("tolerates a trailing slash after the prefix", async () => {
    expect(openStore("s3://usage-reports/reports/v1/", { s3Client: client }).url).toBe(
      "s3://usage-reports/reports/v1",
    );
    expect(await s3Path("s3://usage-reports/reports/v1/", "latest.json")).toBe(
      "/reports/v1/latest.json",
    );
  });

  it.each(["s3://usage-reports", "s3://usage-reports/"])(
    "puts keys at the bucket root for %s",
    async (url) => {
      expect(openStore(url, { s3Client: client }).url).toBe("s3://usage-reports/");
      expect(await s3Path(url, "daily/2026-11-27/report.json")).toBe(
        "/daily/2026-11-27/report.json",
      );
    },
  );

  it("resolves a relative file:// path against cwd", async () => {
    const store = openStore("file://./reports", { cwd });
    expect(store).toBeInstanceOf(FileStore);
    expect(store.url).toBe("file://./reports");
    await store.put("latest.json", "{}", "application/json");
    expect(await readFile(join(cwd, "reports", "latest.json"), "utf8")).toBe("{}");
    expect(await store.downloadUrl("latest.json", "latest.json", 60)).toBeUndefined();
  });

  it("resolves a relative file:// path against the process directory by default", async () => {
    vi.spyOn(process, "cwd").mockReturnValue(cwd);
    await openStore("file://reports").put("latest.json", "{}", "application/json");
    expect(await readFile(join(cwd, "reports", "latest.json"), "utf8")).toBe("{}");
  });

  it("opens an absolute file:/// path", async () => {
    const store = openStore(`file://${cwd}/abs`, { cwd: "/elsewhere" });
    expect(store).toBeInstanceOf(FileStore);
    expect(store.url).toBe(`file://${cwd}/abs`);
    await store.put("latest.json", "{}", "application/json");
    expect(await readFile(join(cwd, "abs", "latest.json"), "utf8")).toBe("{}");
    expect(openStore("file:///tmp/x").url).toBe("file:///tmp/x");
  });

  it("explains in one line why an unknown scheme is refused", () => {
    expect(() => openStore("ftp://x")).toThrow(ConfigError);
    expect(() => openStore("ftp://x")).toThrow(
      new ConfigError('REPORT_STORAGE "ftp://x" is not an s3:// or file:// URL'),
    );
  });

  it("keeps credentials in a refused URL out of the message", () => {
    expect(() => openStore("ftp://user:hunter2@host/x")).toThrow(
      'REPORT_STORAGE "ftp://***@host/x" is not an s3:// or file:// URL',
    );
  });

  it.each([
    ["", /not an s3:\/\/ or file:\/\/ URL/],
    ["./reports", /not an s3:\/\/ or file:\/\/ URL/],
    ["s3://", /invalid bucket name/],
    ["s3:///reports", /invalid bucket name/],
    ["s3://Usage_Reports/x", /invalid bucket name/],
    ["s3://usage-reports/a//b", /prefix/],
    ["s3://usage-reports/a/../b", /prefix/],
    ["file://", /has no path/],
  ])("refuses %j with a ConfigError", (url, message) => {
    expect(() => openStore(url)).toThrow(ConfigError);
    expect(() => openStore(url)).toThrow(message);
  });
});
