/**
 * A reader of CloudWatch's embedded metric format as the specification states it
 * (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * a root `_aws` with an integer `Timestamp` (epoch ms) and `CloudWatchMetrics`, an array of
 * directives each with a `Namespace`, `Dimensions` (an array of dimension sets, each an array of
 * at most 30 member names) and `Metrics` (at most 100 `{Name, Unit?}`); every dimension it names
 * is a string member of the root, every metric a number (or an array of at most 100 numbers).
 * Returns what is wrong, empty for a valid document.
 */

const UNITS = new Set([
  "Seconds",
  "Microseconds",
  "Milliseconds",
  "Bytes",
  "Kilobytes",
  "Megabytes",
  "Gigabytes",
  "Terabytes",
  "Bits",
  "Kilobits",
  "Megabits",
  "Gigabits",
  "Terabits",
  "Percent",
  "Count",
  "Bytes/Second",
  "Kilobytes/Second",
  "Megabytes/Second",
  "Gigabytes/Second",
  "Terabytes/Second",
  "Bits/Second",
  "Kilobits/Second",
  "Megabits/Second",
  "Gigabits/Second",
  "Terabits/Second",
  "Count/Second",
  "None",
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isMetricValue = (v: unknown) =>
  (typeof v === "number" && Number.isFinite(v)) ||
  (Array.isArray(v) && v.length <= 100 && v.every((x) => typeof x === "number"));

export interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit?: string }[];
}

function directiveProblems(doc: Record<string, unknown>, d: unknown, at: string): string[] {
  if (!isObject(d)) return [`${at} is not an object`];
  const problems: string[] = [];
  if (!isString(d.Namespace) || d.Namespace.length > 255) problems.push(`${at}.Namespace`);
  const sets = d.Dimensions;
  if (!Array.isArray(sets)) problems.push(`${at}.Dimensions is not an array`);
  else {
    sets.forEach((set, i) => {
      if (!Array.isArray(set) || set.length > 30) problems.push(`${at}.Dimensions[${i}]`);
      else
        for (const key of set) {
          if (!isString(key) || !isString(doc[key])) {
            problems.push(`dimension ${String(key)} is not a string member of the root`);
          }
        }
    });
  }
  const metrics = d.Metrics;
  if (!Array.isArray(metrics) || metrics.length > 100) problems.push(`${at}.Metrics`);
  else
    for (const m of metrics) {
      if (!isObject(m) || !isString(m.Name)) problems.push(`${at}.Metrics has a nameless metric`);
      else {
        if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) {
          problems.push(`metric ${m.Name} has unit ${String(m.Unit)}`);
        }
        if (!isMetricValue(doc[m.Name])) problems.push(`metric ${m.Name} is not a number member`);
      }
    }
  return problems;
}

export function emfProblems(doc: unknown): string[] {
  if (!isObject(doc)) return ["not an object"];
  const aws = doc._aws;
  if (!isObject(aws)) return ["no _aws object"];
  const problems: string[] = [];
  if (!Number.isInteger(aws.Timestamp)) problems.push("_aws.Timestamp is not epoch ms");
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) {
    return [...problems, "_aws.CloudWatchMetrics is not a non-empty array"];
  }
  directives.forEach((d, i) => {
    problems.push(...directiveProblems(doc, d, `_aws.CloudWatchMetrics[${i}]`));
  });
  return problems;
}

/** The directives of a document already checked with `emfProblems`. */
export const directivesOf = (doc: Record<string, unknown>): EmfDirective[] =>
  (doc._aws as { CloudWatchMetrics: EmfDirective[] }).CloudWatchMetrics;
