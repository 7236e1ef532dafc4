import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  METRICS_NAMESPACE,
  RUN_METRICS,
  USAGE_DIMENSIONS,
  USAGE_METRICS,
} from "../../src/app/run-metrics.js";
import {
  PACKAGE_TIMEOUT_MS,
  packageService,
  type Template,
} from "../helpers/serverless-package.js";

/**
 * The stack's CloudWatch dashboard of the run's metrics (report.md §11), from the template
 * `serverless package` compiles: its body is JSON once CloudFormation substitutes the region and
 * the stack, and it graphs exactly the metrics Publish writes (src/app/run-metrics.ts), in their
 * namespace and with their dimensions. (cfn-spec.test.ts holds the resource against the
 * registry schema.)
 */

let dir: string;
let template: Template;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sls-dashboard-"));
  template = await packageService(dir);
}, PACKAGE_TIMEOUT_MS);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What CloudFormation does to a `Fn::Sub` string: pseudo parameters and the stack's values. */
function substituted(sub: unknown): string {
  const text = (sub as { "Fn::Sub"?: unknown })["Fn::Sub"];
  if (typeof text !== "string") throw new Error("DashboardBody is not a Fn::Sub of one string");
  const values: Record<string, string> = {
    "AWS::Region": "eu-west-1",
    "AWS::StackName": "modelarts-usage-report-ci",
  };
  return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the body refers to \${${name}}`);
    return value;
  });
}

interface Widget {
  type: string;
  properties: { region: string; metrics: unknown[][] };
}

it("graphs each day's usage by source and pool and the run's figures, as Publish writes them", () => {
  const dashboards = Object.values(template.Resources).filter(
    (r) => r.Type === "AWS::CloudWatch::Dashboard",
  );
  expect(dashboards).toHaveLength(1);
  const body = JSON.parse(substituted(dashboards[0]?.Properties?.DashboardBody)) as {
    widgets: Widget[];
  };
  const searched: string[] = [];
  const plain: string[] = [];
  for (const widget of body.widgets) {
    expect(widget.type).toBe("metric");
    expect(widget.properties.region).toBe("eu-west-1");
    for (const line of widget.properties.metrics) {
      const [first] = line;
      if (typeof first === "object" && first !== null) {
        // SEARCH('{namespace,dimensions…} MetricName="…"', …): the schema must be the one
        // the usage documents have, or CloudWatch finds nothing.
        const expression = (first as { expression: string }).expression;
        const match = /^SEARCH\('\{([^}]+)\} MetricName="(\w+)"', 'Maximum', 86400\)$/.exec(
          expression,
        );
        expect(match, expression).not.toBeNull();
        expect(match?.[1]).toBe([METRICS_NAMESPACE, "service", ...USAGE_DIMENSIONS].join(","));
        searched.push(match?.[2] as string);
      } else {
        expect(line).toEqual([
          METRICS_NAMESPACE,
          expect.any(String),
          "service",
          "modelarts-usage-report",
        ]);
        plain.push(line[1] as string);
      }
    }
  }
  expect(searched.sort()).toEqual(Object.values(USAGE_METRICS).sort());
  expect(plain.sort()).toEqual(Object.values(RUN_METRICS).sort());
});
