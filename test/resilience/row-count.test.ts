import { describe, expect, it } from "vitest";
import type { VersionSource } from "../../src/modelarts/client.js";
import { scanVersions } from "../../src/scan/scan.js";
import { IncompleteScanError } from "../../src/shared/errors.js";

/**
 * The rows a scan counts never exceed the rows it read (report.md §9: a row re-read because the
 * listing moved counts once), whatever the listing does between requests. Found by review of
 * the row count: a bridging walk that reached past the planned page it joined had its extra
 * rows counted again by the page after (cases A and B), and two copies of one version, one in
 * each page, were taken for one row across a real gap (case C).
 */

interface Row {
  readonly rid: string;
  readonly id: number;
}

/** A listing scripted request by request; `hidden` is a row counted but never shown. */
function scripted(
  ids: readonly number[],
  changes: Record<number, (rows: Row[]) => void>,
  hidden?: number,
): { source: VersionSource; returned: Set<string> } {
  const rows: Row[] = ids.map((id, i) => ({ rid: `r${i}`, id }));
  const returned = new Set<string>();
  let call = 0;
  return {
    returned,
    source: {
      async listPage(offset: number, limit: number) {
        call++;
        changes[call]?.(rows);
        const slice = rows.slice(offset, offset + limit).filter((_, i) => offset + i !== hidden);
        for (const r of slice) returned.add(r.rid);
        return {
          totalCount: rows.length,
          requestId: undefined,
          records: slice.map((r) => ({ version_id: r.id, status: 10, create_time: 1 })),
        };
      },
    },
  };
}

describe("the rows a scan counts", () => {
  it("fail a listing that hides a row, even when a walk reaches past the page it joins (A)", async () => {
    // Before: 7 rows counted for 6 read, version 4 missing and the scan "complete".
    const s = scripted(
      [1, 2, 3, 4, 2, 5, 6],
      {
        2: (rows) => void rows.splice(6, 1),
        3: (rows) => void rows.push({ rid: "r7", id: 7 }),
      },
      3,
    );
    const outcome = await scanVersions(s.source, { pageSize: 5, keep: () => true }).catch(
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(IncompleteScanError);
  });

  it("count a row re-read after the listing moved once (B)", async () => {
    // Before: 13 rows counted for 12 read, and 2 duplicate rows for 1.
    const s = scripted([7, 1, 2, 3, 7, 4, 5, 6, 8, 9, 10, 11], {
      4: (rows) => void rows.splice(5, 2),
    });
    const result = await scanVersions(s.source, { pageSize: 5, keep: () => true });
    expect(result.recordsRead).toBeLessThanOrEqual(s.returned.size);
    expect(result.anomalies.duplicate_rows).toBe(1);
    expect([...result.versions.keys()].sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
  });

  it("do not link two pages through two copies of one version across a gap (C)", async () => {
    // Before: version 5, listed throughout, was never read and the scan was "complete".
    const s = scripted([1, 2, 9, 3, 4, 5, 9, 6, 7, 8], { 2: (rows) => void rows.splice(0, 2) });
    const outcome = await scanVersions(s.source, { pageSize: 5, keep: () => true }).catch(
      (e: unknown) => e,
    );
    if (outcome instanceof Error) expect(outcome).toBeInstanceOf(IncompleteScanError);
    else expect((outcome as { versions: Map<number, unknown> }).versions.has(5)).toBe(true);
  });
});
