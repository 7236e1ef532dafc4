import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../src/shared/errors.js";
import { loadPriceTable } from "../../src/storage/documents.js";
import { localS3Env } from "../helpers/handlers.js";
import { type LocalS3, startS3 } from "../helpers/s3.js";

/** PRICE_TABLE from a file and from S3 (s3rver), through the module the report run uses. */

const TABLE = JSON.stringify({ currency: "EUR", flavors: { "gpu.p1": { per_gpu_hour: 2 } } });
let s3: LocalS3;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket("prices");
  await s3.client.send(
    new PutObjectCommand({ Bucket: "prices", Key: "tables/prices.json", Body: TABLE }),
  );
});

afterAll(async () => {
  await s3?.close();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("PRICE_TABLE in S3", () => {
  it("reads the table with the caller's client", async () => {
    const table = await loadPriceTable("s3://prices/tables/prices.json", { s3Client: s3.client });
    expect(table.currency).toBe("EUR");
  });

  it("names the location when the object cannot be read", async () => {
    const missing = loadPriceTable("s3://prices/tables/none.json", { s3Client: s3.client });
    await expect(missing).rejects.toThrow(ConfigError);
    await expect(missing).rejects.toThrow(
      "PRICE_TABLE s3://prices/tables/none.json could not be read from S3",
    );
  });

  it("makes its own client once and keeps it for the container's later runs", async () => {
    for (const [name, value] of Object.entries(localS3Env(s3.endpoint))) vi.stubEnv(name, value);
    vi.resetModules();
    const fresh = await import("../../src/storage/documents.js");
    expect((await fresh.loadPriceTable("s3://prices/tables/prices.json")).currency).toBe("EUR");
    // A client made now would go to a port nobody listens on; the one made above does not.
    vi.stubEnv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9");
    expect((await fresh.loadPriceTable("s3://prices/tables/prices.json")).currency).toBe("EUR");
  });
});

describe("PRICE_TABLE as a file", () => {
  it("reads a path relative to the working directory, with or without file://", async () => {
    const dir = await mkdtemp(join(tmpdir(), "price-table-"));
    try {
      await writeFile(join(dir, "prices.json"), TABLE);
      expect((await loadPriceTable("prices.json", { cwd: dir })).currency).toBe("EUR");
      expect((await loadPriceTable(`file://${dir}/prices.json`)).currency).toBe("EUR");
      await expect(loadPriceTable("none.json", { cwd: dir })).rejects.toThrow(
        `PRICE_TABLE none.json could not be read (${join(dir, "none.json")})`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
