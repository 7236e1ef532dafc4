import { renderFiles } from "../../src/app/report-job.js";
import { buildDailyReports, buildMonthReport, type SourceInput } from "../../src/report/build.js";
import { DAY, MONTH } from "../../src/report/period.js";
import type { PeriodReport } from "../../src/report/types.js";
import { writeReportFiles } from "../../src/storage/publish.js";
import type { ReportStore } from "../../src/storage/store.js";
import { HOUR, version } from "./versions.js";

/**
 * An organisation's report (report.md §10) written by hand: four sources of one day, one of
 * them with no usage, another whose name starts with "-" (written `'-edge` in the CSV files),
 * and version 7 in two sources (two versions: identity is (source, version_id)). The files are
 * the project's own, from its builders and renderers, stored for the day and for its month.
 */

export const ORG_DATE = "2026-11-20";
export const ORG_MONTH = "2026-11";
export const ORG_NOW = Date.UTC(2026, 10, 28, 0, 30);
export const SOURCE_NAMES = ["research.vision", "research.nlp", "ops", "-edge"] as const;

const at = (hour: number) => Date.UTC(2026, 10, 20) + hour * HOUR;
const ran = (from: number, to: number) => ({
  createTime: at(from) - HOUR,
  startTime: at(from),
  endTime: at(to),
});

/**
 * Each source's versions; the day's GPU-hours by source (gpu_num × hours):
 * research.vision 2 × 3 + 4 × 2 = 14, research.nlp 1 × 3 = 3 (and 8 × 1.5 = 12 NPU-hours),
 * ops 0, -edge 1 × 1 = 1.
 */
const VERSIONS = {
  "research.vision": [
    version({ versionId: 1, flavorCode: "gpu.v100", poolId: "pool-a", gpuNum: 2, ...ran(2, 5) }),
    version({
      versionId: 7,
      flavorCode: "gpu.a100",
      poolId: "pool-a",
      gpuNum: 4,
      status: 3,
      ...ran(10, 12),
    }),
  ],
  "research.nlp": [
    version({ versionId: 7, flavorCode: "gpu.v100", poolId: "pool-b", gpuNum: 1, ...ran(1, 4) }),
    version({ versionId: 9, flavorCode: "npu.910", poolId: null, npuNum: 8, ...ran(0, 1.5) }),
  ],
  ops: [],
  "-edge": [
    version({ versionId: 3, flavorCode: "gpu.v100", poolId: "pool-a", gpuNum: 1, ...ran(22, 23) }),
  ],
} as const;

function sources(): SourceInput[] {
  return SOURCE_NAMES.map((name, i) => ({
    info: {
      name,
      endpoint: "https://modelarts.example",
      project_id: `project-${i}`,
      workspace_id: name.startsWith("research.") ? `ws-${name.slice(9)}` : null,
      pool_id: null,
      versions_scanned: VERSIONS[name].length,
      pages: 1,
      total_count_first: VERSIONS[name].length,
      total_count_last: VERSIONS[name].length,
    },
    anomalies: { skipped: i, duplicate_rows: 0, reasons: i > 0 ? { "bad record": i } : {} },
    versions: VERSIONS[name],
  }));
}

const common = () => ({
  sources: sources(),
  timeZone: "UTC",
  now: ORG_NOW,
  failureStatuses: [3, 5, 6, 13],
});

export function orgDay(): PeriodReport {
  const [day] = buildDailyReports({ ...common(), dates: [ORG_DATE] });
  if (day === undefined) throw new Error("no day built");
  return day;
}

export function orgMonth(): PeriodReport {
  return buildMonthReport({ ...common(), month: ORG_MONTH });
}

/** Stores the day's and the month's files (report.json, usage.csv, jobs.csv, sources.csv). */
export async function writeOrgReport(store: ReportStore): Promise<void> {
  await writeReportFiles(store, DAY, ORG_DATE, renderFiles(orgDay()));
  await writeReportFiles(store, MONTH, ORG_MONTH, renderFiles(orgMonth()));
}
