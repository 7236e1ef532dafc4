/** How the benchmark prints: figures on lines of their own, and the targets side by side. */

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const line = (label: string, value: string) =>
  process.stdout.write(`${label.padEnd(58)} ${value}\n`);

export const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;

export interface Target {
  name: string;
  measured: string;
  against: string;
  ratio: number;
  target: string;
  /** The bound the ratio must keep: at most (the default, 1) or at least. */
  atMost?: number;
  atLeast?: number;
}

const targets: (Target & { met: boolean })[] = [];

export function target(t: Target): void {
  const met = t.atLeast !== undefined ? t.ratio >= t.atLeast : t.ratio <= (t.atMost ?? 1);
  targets.push({ ...t, met });
}

/** Every target measured, each with its figure, what it is held against and the ratio. */
export function printTargets(): void {
  process.stdout.write("\ntargets:\n");
  const width = Math.max(...targets.map((t) => t.name.length));
  for (const t of targets) {
    process.stdout.write(
      `  ${t.met ? "met " : "MISS"}  ${t.name.padEnd(width)}  ${t.measured.padStart(12)}  vs ${t.against.padEnd(22)} ${fmt(t.ratio, 2).padStart(6)}  (${t.target})\n`,
    );
  }
}
