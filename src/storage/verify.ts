import { type PeriodRef, periodOf } from "../report/period.js";
import { MANIFEST_FILE } from "../report/types.js";
import { parseManifest, sha256Hex } from "./publish.js";
import type { ReportStore } from "./store.js";

/** One file's check against the manifest of its date. */
export interface FileCheck {
  readonly name: string;
  readonly key: string;
  readonly ok: boolean;
  /** What is wrong, when not ok: missing, size or checksum. */
  readonly problem?: string;
}

export interface VerifyResult {
  readonly date: string;
  readonly files: readonly FileCheck[];
  /** The manifest's own verdict on the scan (§9). */
  readonly complete: boolean;
  readonly ok: boolean;
}

/**
 * Checks every file of a date (or a month, in `period`) against its manifest: present, same
 * size, same SHA-256.
 */
export async function verifyDate(
  store: ReportStore,
  date: string,
  period: PeriodRef,
): Promise<VerifyResult | undefined> {
  const manifestKey = periodOf(period).key(date, MANIFEST_FILE);
  const object = await store.get(manifestKey);
  if (object === undefined) return undefined;
  const manifest = parseManifest(object.body, manifestKey);
  const files: FileCheck[] = [];
  for (const [name, entry] of Object.entries(manifest.files)) {
    const stored = await store.get(entry.key);
    if (stored === undefined) {
      files.push({ name, key: entry.key, ok: false, problem: "missing" });
    } else if (stored.body.length !== entry.bytes) {
      files.push({
        name,
        key: entry.key,
        ok: false,
        problem: `size ${stored.body.length} bytes, the manifest says ${entry.bytes}`,
      });
    } else if (sha256Hex(stored.body) !== entry.sha256) {
      files.push({ name, key: entry.key, ok: false, problem: "SHA-256 differs from the manifest" });
    } else {
      files.push({ name, key: entry.key, ok: true });
    }
  }
  const complete = manifest.completeness.complete;
  return { date, files, complete, ok: complete && files.every((f) => f.ok) };
}
