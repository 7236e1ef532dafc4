import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../../src/shared/errors.js";
import { openStore } from "../../src/storage/open-store.js";
import {
  LATEST_KEY,
  LATEST_MONTH_KEY,
  readLatest,
  readLatestMonth,
  updateLatest,
} from "../../src/storage/pointers.js";

/** latest.json and latest-month.json, as files: a pointer names a date (month) that exists. */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "latest-pointer-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pointer = (field: string, label: string) =>
  `${JSON.stringify({ [field]: label, generated_at: "2026-12-01T00:31:00Z", files: {} })}\n`;

describe("the latest pointers", () => {
  it.each([
    [LATEST_KEY, "report_date", "2026-02-30", readLatest],
    [LATEST_KEY, "report_date", "2026-13-01", readLatest],
    [LATEST_MONTH_KEY, "report_month", "2026-13", readLatestMonth],
    [LATEST_MONTH_KEY, "report_month", "2026-00", readLatestMonth],
  ] as const)("refuses %s naming %s %s, which does not exist", async (key, field, label, read) => {
    await writeFile(join(dir, key), pointer(field, label));
    const store = openStore(`file://${dir}`);
    await expect(read(store)).rejects.toThrow(StorageError);
    await expect(read(store)).rejects.toThrow(`${key} in ${store.url} is not a valid pointer`);
  });

  it("reads one naming a date and a month that exist", async () => {
    await writeFile(join(dir, LATEST_KEY), pointer("report_date", "2026-02-28"));
    await writeFile(join(dir, LATEST_MONTH_KEY), pointer("report_month", "2026-12"));
    const store = openStore(`file://${dir}`);
    expect((await readLatest(store))?.report_date).toBe("2026-02-28");
    expect((await readLatestMonth(store))?.report_month).toBe("2026-12");
  });

  it("is replaced when it names a date that does not exist", async () => {
    await writeFile(join(dir, LATEST_KEY), pointer("report_date", "2026-11-31"));
    const store = openStore(`file://${dir}`);
    const candidate = {
      report_date: "2026-11-27",
      generated_at: "2026-11-28T00:31:00Z",
      files: {},
    };
    const now = Date.UTC(2026, 11, 2);
    expect(await updateLatest(store, candidate, { now, timeZone: "UTC" })).toEqual(candidate);
    expect((await readLatest(store))?.report_date).toBe("2026-11-27");
  });
});
