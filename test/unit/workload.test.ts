import { describe, expect, it } from "vitest";
import { generateWorkload, ODD_NAMES, type RawVersion } from "../../src/simulator/workload.js";

const NOW = Date.UTC(2026, 10, 28, 9, 13, 27, 512);
const DAY = 86_400_000;
const workload = generateWorkload({ versions: 3000, seed: 7, now: NOW });

function utcDay(t: number): number {
  return Math.floor(t / DAY);
}

describe("generateWorkload", () => {
  it("gives the same records for the same seed and different ones for another seed", () => {
    expect(generateWorkload({ versions: 3000, seed: 7, now: NOW })).toEqual(workload);
    expect(generateWorkload({ versions: 3000, seed: 8, now: NOW })).not.toEqual(workload);
  });

  it("generates exactly the number of versions asked for, even very few", () => {
    expect(workload).toHaveLength(3000);
    expect(generateWorkload({ versions: 0, seed: 1, now: NOW })).toEqual([]);
    expect(generateWorkload({ versions: 5, seed: 1, now: NOW })).toHaveLength(5);
  });

  it("gives unique version ids that increase with create_time but leave gaps", () => {
    const ids = workload.map((v) => v.version_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < workload.length; i++) {
      const [prev, cur] = [workload[i - 1] as RawVersion, workload[i] as RawVersion];
      expect(cur.version_id).toBeGreaterThan(prev.version_id);
      expect(cur.create_time).toBeGreaterThanOrEqual(prev.create_time);
    }
    const last = workload.at(-1) as RawVersion;
    const first = workload[0] as RawVersion;
    expect(last.version_id - first.version_id).toBeGreaterThan(workload.length);
  });

  it("keeps every time at or before now and inside the period", () => {
    for (const v of workload) {
      expect(v.create_time).toBeLessThanOrEqual(NOW);
      expect(v.create_time).toBeGreaterThanOrEqual(NOW - 30 * DAY);
      expect(v.start_time).toBeLessThanOrEqual(NOW);
      expect(v.end_time).toBeLessThanOrEqual(NOW);
      if (v.start_time > 0) expect(v.start_time).toBeGreaterThanOrEqual(v.create_time);
      if (v.end_time > 0 && v.start_time > 0) expect(v.end_time).toBeGreaterThan(v.start_time);
      if (v.start_time > 0) expect(v.start_time + v.duration).toBeLessThanOrEqual(NOW);
    }
  });

  it("contains a failure in each default failure status 3, 5, 6 and 13, and run failures (11)", () => {
    const statuses = new Set(workload.map((v) => v.status));
    for (const status of [3, 5, 6, 13, 11]) expect(statuses).toContain(status);
  });

  it("contains run failures (11) that never started", () => {
    expect(workload.some((v) => v.status === 11 && v.start_time === 0)).toBe(true);
  });

  it("has still-running jobs (8, 9, 15) with end_time 0 and a duration up to now", () => {
    for (const status of [8, 9, 15]) {
      const running = workload.filter((v) => v.status === status);
      expect(running.length).toBeGreaterThan(0);
      for (const v of running) {
        expect(v.end_time).toBe(0);
        expect(v.start_time).toBeGreaterThan(0);
        expect(v.duration).toBe(NOW - v.start_time);
      }
    }
  });

  it("has queued and initialising jobs that never started", () => {
    for (const status of [7, 1]) {
      const waiting = workload.filter((v) => v.status === status);
      expect(waiting.length).toBeGreaterThan(0);
      for (const v of waiting) expect([v.start_time, v.end_time, v.duration]).toEqual([0, 0, 0]);
    }
  });

  it("has completed jobs with only a duration, and killed jobs", () => {
    expect(
      workload.some(
        (v) => v.status === 10 && v.end_time === 0 && v.start_time > 0 && v.duration > 0,
      ),
    ).toBe(true);
    expect(workload.some((v) => v.status === 12 && v.end_time > 0)).toBe(true);
  });

  it("has jobs that cross midnight UTC, some of them by days", () => {
    const crossing = workload.filter(
      (v) => v.start_time > 0 && v.end_time > 0 && utcDay(v.start_time) !== utcDay(v.end_time),
    );
    expect(crossing.length).toBeGreaterThan(10);
    expect(crossing.some((v) => v.end_time - v.start_time > DAY)).toBe(true);
  });

  it("runs jobs from minutes to days", () => {
    const runs = workload.filter((v) => v.end_time > 0 && v.start_time > 0);
    const lengths = runs.map((v) => v.end_time - v.start_time);
    expect(Math.min(...lengths)).toBeLessThan(10 * 60_000);
    expect(Math.max(...lengths)).toBeGreaterThan(2 * DAY);
  });

  it("mixes GPU, NPU and CPU-only flavors, each with a consistent card count", () => {
    const cards = new Map<string, string>();
    for (const v of workload) {
      const count = `${v.gpu_num}/${v.npu_num}`;
      expect(cards.get(v.flavor_code) ?? count).toBe(count);
      cards.set(v.flavor_code, count);
    }
    const counts = [...cards.values()];
    expect(counts.some((c) => c.endsWith("/0") && c !== "0/0")).toBe(true);
    expect(counts.some((c) => c.startsWith("0/") && c !== "0/0")).toBe(true);
    expect(counts).toContain("0/0");
    expect(cards.get("modelarts.bm.npu.arm.8snt9b3.d")).toBe("0/8");
    expect(new Set(workload.map((v) => v.gpu_num))).toEqual(new Set([0, 1, 2, 4, 8]));
  });

  it("uses a few named pools and the public pool (null)", () => {
    const pools = new Set(workload.map((v) => v.pool_id));
    expect(pools).toContain(null);
    expect([...pools].filter((p) => p !== null).length).toBeGreaterThanOrEqual(3);
  });

  it("creates more jobs in working hours than at night", () => {
    const byHour = (from: number, to: number): number =>
      workload.filter((v) => {
        const h = new Date(v.create_time).getUTCHours();
        return h >= from && h < to;
      }).length;
    expect(byHour(9, 17)).toBeGreaterThan(4 * byHour(0, 8));
  });

  it("includes odd names: unicode, emoji, commas, quotes, newlines, formulas and markup", () => {
    const names = new Set(workload.map((v) => v.version_name));
    for (const name of ODD_NAMES) expect(names).toContain(name);
    expect(ODD_NAMES).toEqual(
      expect.arrayContaining([
        "<script>alert(1)</script>",
        expect.stringMatching(/^=/),
        expect.stringMatching(/^\+/),
        expect.stringMatching(/^-/),
        expect.stringMatching(/^@/),
        expect.stringMatching(/\n/),
        expect.stringMatching(/,/),
        expect.stringMatching(/"/),
        expect.stringMatching(/\p{Extended_Pictographic}/u),
      ]),
    );
  });

  it("squeezes every case into a one-day period without breaking the time rules", () => {
    const short = generateWorkload({ versions: 200, seed: 3, now: NOW, days: 1 });
    for (const v of short) {
      expect(v.create_time).toBeGreaterThanOrEqual(NOW - DAY);
      expect(Math.max(v.create_time, v.start_time, v.end_time)).toBeLessThanOrEqual(NOW);
      if (v.start_time > 0) expect(v.start_time).toBeGreaterThanOrEqual(v.create_time);
    }
  });

  it("rejects impossible options", () => {
    expect(() => generateWorkload({ versions: -1, seed: 1, now: NOW })).toThrow(RangeError);
    expect(() => generateWorkload({ versions: 1.5, seed: 1, now: NOW })).toThrow(RangeError);
    expect(() => generateWorkload({ versions: 1, seed: 1, now: NOW, days: 0 })).toThrow(RangeError);
  });
});
