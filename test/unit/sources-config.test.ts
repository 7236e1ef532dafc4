import { describe, expect, it } from "vitest";
import { loadReportConfig } from "../../src/app/config.js";
import { ConfigError } from "../../src/shared/errors.js";

/**
 * REPORT_SOURCES (report.md §10): every configuration error names the entry and why, and
 * comes at start (exit 2), before any scan.
 */

const entry = (more: object = {}) => ({
  name: "research",
  endpoint: "https://modelarts.eu-de.example.com",
  project_id: "p1",
  ...more,
});
const load = (sources: unknown, env: Record<string, string> = {}) =>
  loadReportConfig({
    REPORT_SOURCES: typeof sources === "string" ? sources : JSON.stringify(sources),
    MODELARTS_TOKEN: "default-token",
    ...env,
  });
const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("no error");
};

describe("REPORT_SOURCES", () => {
  it("reads named sources with their listing and credentials", () => {
    const config = load(
      [
        entry({ workspace_id: "*" }),
        entry({ name: "eu-prod", project_id: "p2", pool_id: "pool-1", credentials: "env:EU" }),
        entry({
          name: "ops",
          project_id: "p3",
          credentials: "modelarts-usage-report/prod/sources/ops",
        }),
      ],
      { EU_MODELARTS_AK: "AK2", EU_MODELARTS_SK: "SK2", MODELARTS_PAGE_SIZE: "200" },
    );
    if (config.sources.kind !== "listed") throw new Error("expected listed sources");
    const [research, eu, ops] = config.sources.sources;
    expect(research).toMatchObject({
      name: "research",
      allWorkspaces: true,
      upstream: { workspaceId: null, projectId: "p1", pageSize: 200, auth: { kind: "token" } },
    });
    expect(eu).toMatchObject({
      allWorkspaces: false,
      upstream: { poolId: "pool-1", auth: { kind: "aksk", ak: "AK2" } },
    });
    expect(ops?.upstream.auth).toEqual({
      kind: "secret",
      secretId: "modelarts-usage-report/prod/sources/ops",
    });
    // Secrets stay wrapped: printing the configuration shows none.
    expect(JSON.stringify(config)).not.toMatch(/SK2|default-token/);
  });

  it("keeps a file:// or s3:// document for the run to read", () => {
    expect(load("s3://bucket/config/sources.json").sources).toMatchObject({
      kind: "document",
      location: "s3://bucket/config/sources.json",
    });
  });

  it.each([
    ["not JSON", "[{", /REPORT_SOURCES is not JSON/],
    ["an empty array", [], /must be a JSON array of at least one source/],
    ["an object", { name: "x" }, /must be a JSON array/],
    ["a bad name", [entry({ name: "Research" })], /entry 1: name "Research" must be 1–40/],
    ["a name too long", [entry({ name: "a".repeat(41) })], /entry 1: name "a{41}" must be/],
    ["an unknown field", [entry({ region: "eu" })], /entry 1: .*region/],
    [
      "a missing project",
      [{ name: "x", endpoint: "https://e.example.com" }],
      /entry 1: project_id/,
    ],
    [
      "a plain-http endpoint",
      [entry({ endpoint: "http://modelarts.example.com" })],
      /entry 1 \("research"\): endpoint must be an https:\/\/ URL/,
    ],
    [
      "a duplicate name",
      [entry(), entry({ project_id: "p2" })],
      /REPORT_SOURCES: the name "research" is used twice/,
    ],
    [
      "two entries naming one listing",
      [entry(), entry({ name: "again" })],
      /"research" and "again" name the same listing/,
    ],
    [
      "the default workspace named twice",
      [entry(), entry({ name: "zero", workspace_id: "0" })],
      /"research" and "zero" name the same listing/,
    ],
    [
      "every workspace of one project twice",
      [entry({ workspace_id: "*" }), entry({ name: "all", workspace_id: "*" })],
      /"research" and "all" name the same listing/,
    ],
    [
      "unknown env credentials",
      [entry({ credentials: "env:NOPE" })],
      /entry 1 \("research"\): unknown credentials "env:NOPE": none of NOPE_MODELARTS_TOKEN/,
    ],
    [
      "a malformed env prefix",
      [entry({ credentials: "env:lower" })],
      /the prefix must be upper-case/,
    ],
    [
      "credentials that are no secret name",
      [entry({ credentials: "not a secret name!" })],
      /unknown credentials: expected the name or ARN of a Secrets Manager secret/,
    ],
  ])("refuses %s, naming the entry", (_what, sources, message) => {
    expect(errorOf(() => load(sources))).toMatch(message);
  });

  it("refuses an entry without credentials when there are no default ones", () => {
    expect(errorOf(() => loadReportConfig({ REPORT_SOURCES: JSON.stringify([entry()]) }))).toMatch(
      /entry 1 \("research"\): no credentials/,
    );
  });

  it("refuses REPORT_SOURCES together with MODELARTS_ENDPOINT", () => {
    expect(errorOf(() => load([entry()], { MODELARTS_ENDPOINT: "https://e.example.com" }))).toMatch(
      /set REPORT_SOURCES or MODELARTS_ENDPOINT, not both/,
    );
  });

  it("refuses env: credentials in AWS, where credentials live in Secrets Manager", () => {
    expect(
      errorOf(() =>
        load([entry({ credentials: "env:EU" })], {
          AWS_LAMBDA_FUNCTION_NAME: "f",
          REPORT_STORAGE: "s3://b/r",
          EU_MODELARTS_TOKEN: "t",
        }),
      ),
    ).toMatch(/credentials "env:EU" are for local runs only/);
  });

  it("never repeats a credential in an error", () => {
    const message = errorOf(() =>
      load([entry({ credentials: "env:EU" })], {
        EU_MODELARTS_AK: "AK-visible",
        EU_MODELARTS_SK: "",
      }),
    );
    expect(message).toMatch(/EU_MODELARTS_AK and EU_MODELARTS_SK must be set together/);
    expect(message).not.toContain("AK-visible");
  });

  it("makes the MODELARTS_* settings one source named default, as before", () => {
    const config = loadReportConfig({
      MODELARTS_ENDPOINT: "https://e.example.com",
      MODELARTS_PROJECT_ID: "p",
      MODELARTS_TOKEN: "t",
    });
    expect(config.sources).toMatchObject({
      kind: "listed",
      sources: [{ name: "default", allWorkspaces: false, upstream: { workspaceId: null } }],
    });
    const all = loadReportConfig({
      MODELARTS_ENDPOINT: "https://e.example.com",
      MODELARTS_PROJECT_ID: "p",
      MODELARTS_TOKEN: "t",
      MODELARTS_WORKSPACE_ID: "*",
    });
    expect(all.sources).toMatchObject({
      sources: [{ name: "default", allWorkspaces: true, upstream: { workspaceId: null } }],
    });
  });
});
