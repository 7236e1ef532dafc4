import {
  emptyVersion,
  type JobVersion,
  readableVersionId,
  readVersion,
  recordFingerprint,
} from "../modelarts/version-record.js";
import type { Anomalies } from "../report/types.js";
import { IdSet } from "./id-set.js";

/**
 * What identifies a record across pages: its version id when it has a readable one, else a
 * fingerprint of its content (a string).
 */
export type RecordKey = number | string;

/** Collects parsed records: de-duplication by id, "last copy wins", anomaly counting. */
export class VersionCollector {
  readonly #keep: (version: JobVersion) => boolean;
  readonly #kept = new Map<number, JobVersion>();
  /** Valid version ids read; compact, as it holds every version of the project. */
  readonly #valid = new IdSet();
  /** Bad records with a readable id, by id → reason; a record read twice counts once. */
  readonly #badById = new Map<number, string>();
  /**
   * Why each record without a readable id is bad, by fingerprint. Such records are counted
   * by the rows of the listing they occupy, which only the page chain knows (`anomalies`).
   */
  readonly #badByContent = new Map<string, string>();

  constructor(keep: (version: JobVersion) => boolean) {
    this.#keep = keep;
  }

  /** One copy of each flavor code and pool id: a month keeps tens of thousands of versions. */
  readonly #strings = new Map<string, string>();

  #intern(s: string | null): string | null {
    if (s === null) return null;
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    this.#strings.set(s, s);
    return s;
  }

  /** Every record is read into this one object; only the versions kept are copied out. */
  readonly #scratch = emptyVersion();

  /** Reads one record of the page; returns its key (its version id, or a fingerprint). */
  #add(raw: unknown): RecordKey {
    const v = this.#scratch;
    const reason = readVersion(raw, v);
    if (reason === undefined) {
      this.#valid.add(v.versionId);
      if (this.#badById.size > 0) this.#badById.delete(v.versionId);
      if (this.#keep(v)) {
        this.#kept.set(v.versionId, {
          ...v,
          flavorCode: this.#intern(v.flavorCode),
          poolId: this.#intern(v.poolId),
        });
      } else this.#kept.delete(v.versionId);
      return v.versionId;
    }
    // A later bad copy of a version replaces an earlier good one: last copy wins.
    const id = readableVersionId(raw);
    if (id !== undefined) {
      this.#badById.set(id, reason);
      this.#valid.delete(id);
      this.#kept.delete(id);
      return id;
    }
    const key = `raw:${recordFingerprint(raw)}`;
    if (!this.#badByContent.has(key)) this.#badByContent.set(key, reason);
    return key;
  }

  /** Takes one page of raw records, in order; returns their keys. */
  addPage(records: readonly unknown[]): RecordKey[] {
    return records.map((record) => this.#add(record));
  }

  /** Distinct records with a readable id, valid or not (for progress). */
  get recordsRead(): number {
    return this.#valid.size + this.#badById.size;
  }

  get versions(): ReadonlyMap<number, JobVersion> {
    return this.#kept;
  }

  get versionsScanned(): number {
    return this.#valid.size;
  }

  /** The anomalies of a listing that is exactly these records, in order, once each. */
  anomaliesOf(keys: readonly RecordKey[]): Anomalies {
    const idlessRows = new Map<string, number>();
    const ids = new Set<number>();
    let duplicateRows = 0;
    for (const key of keys) {
      if (typeof key === "string") idlessRows.set(key, (idlessRows.get(key) ?? 0) + 1);
      else if (ids.has(key)) duplicateRows++;
      else ids.add(key);
    }
    return this.anomalies(idlessRows, duplicateRows);
  }

  /**
   * The scan's anomalies, given what the page chain covered: how many rows each id-less record
   * occupies (every such row is a bad record of its own), and the rows that repeat a version
   * id (§4).
   */
  anomalies(idlessRows: ReadonlyMap<string, number>, duplicateRows: number): Anomalies {
    const all = [...this.#badById.values()];
    for (const [key, copies] of idlessRows) {
      const reason = this.#badByContent.get(key);
      if (reason === undefined) continue;
      for (let i = 0; i < copies; i++) all.push(reason);
    }
    all.sort();
    const reasons: Record<string, number> = {};
    for (const reason of all) reasons[reason] = (reasons[reason] ?? 0) + 1;
    return { skipped: all.length, duplicate_rows: duplicateRows, reasons };
  }
}
