import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadApiConfig, loadBaseConfig, loadReportConfig } from "../../src/app/config.js";
import { ConfigError } from "../../src/shared/errors.js";
import { upstreamOf } from "../helpers/one-source.js";

const base = {
  MODELARTS_ENDPOINT: "https://modelarts.eu-de.otc.t-systems.com",
  MODELARTS_PROJECT_ID: "p1",
};

function fails(env: Record<string, string>): string {
  try {
    loadReportConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadReportConfig", () => {
  it("uses the demo and local defaults when nothing is set", () => {
    const config = loadReportConfig({});
    expect(config).toEqual({
      storage: "file://./reports",
      timeZone: "UTC",
      failureStatuses: [3, 5, 6, 13],
      budgets: { kind: "none" },
      sources: { kind: "demo" },
      maxInFlight: 96,
      priceTable: null,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("rejects a time zone that is not IANA, naming the variable", () => {
    expect(fails({ REPORT_TIMEZONE: "Mars/Base" })).toBe(
      'REPORT_TIMEZONE "Mars/Base" is not an IANA time zone',
    );
  });

  it("parses and sorts a failure set", () => {
    expect(loadReportConfig({ FAILURE_STATUSES: "13, 3,11,5,6,3" }).failureStatuses).toEqual([
      3, 5, 6, 11, 13,
    ]);
    expect(fails({ FAILURE_STATUSES: "3,x" })).toMatch(/^FAILURE_STATUSES "3,x"/);
  });

  it("requires an endpoint when running in AWS", () => {
    expect(fails({ AWS_LAMBDA_FUNCTION_NAME: "f", REPORT_STORAGE: "s3://b/p" })).toMatch(
      /MODELARTS_ENDPOINT or REPORT_SOURCES is required/,
    );
  });

  it("requires s3:// storage when running in AWS, where a file root would vanish", () => {
    expect(fails({ ...base, MODELARTS_TOKEN: "t", AWS_LAMBDA_FUNCTION_NAME: "f" })).toBe(
      "REPORT_STORAGE must be an s3:// URL when running in AWS",
    );
  });

  it("takes serverless-offline (IS_OFFLINE) as local, not AWS", () => {
    const config = loadReportConfig({ AWS_LAMBDA_FUNCTION_NAME: "f", IS_OFFLINE: "true" });
    expect(upstreamOf(config)).toBeNull();
    expect(config.storage).toBe("file://./reports");
  });

  it("reads token auth and never shows the token when printed", () => {
    const config = loadReportConfig({ ...base, MODELARTS_TOKEN: "tok-SECRET-123" });
    expect(upstreamOf(config)?.auth.kind).toBe("token");
    expect(JSON.stringify(config)).not.toContain("tok-SECRET-123");
    expect(inspect(config, { depth: 10 })).not.toContain("tok-SECRET-123");
  });

  it("reads AK/SK and IAM password auth", () => {
    expect(
      upstreamOf(loadReportConfig({ ...base, MODELARTS_AK: "AK", MODELARTS_SK: "SK" }))?.auth.kind,
    ).toBe("aksk");
    const iam = loadReportConfig({
      ...base,
      IAM_ENDPOINT: "https://iam.eu-de.otc.t-systems.com",
      IAM_USERNAME: "u",
      IAM_PASSWORD: "p",
      IAM_DOMAIN: "d",
    });
    expect(upstreamOf(iam)?.auth).toMatchObject({ kind: "iam", username: "u", domain: "d" });
    expect(fails({ ...base, IAM_USERNAME: "u", IAM_ENDPOINT: "https://iam.x" })).toMatch(
      /IAM_PASSWORD is required/,
    );
  });

  it("refuses two auth methods at once and none at all", () => {
    expect(fails({ ...base, MODELARTS_TOKEN: "t", MODELARTS_AK: "a", MODELARTS_SK: "s" })).toMatch(
      /choose one way/,
    );
    expect(fails({ ...base, MODELARTS_AK: "a" })).toMatch(
      /MODELARTS_AK and MODELARTS_SK must be set together/,
    );
    expect(fails(base)).toMatch(/no ModelArts credentials/);
  });

  it("accepts https endpoints, and http only on loopback", () => {
    expect(
      fails({ ...base, MODELARTS_ENDPOINT: "http://modelarts.example.com", MODELARTS_TOKEN: "t" }),
    ).toMatch(/https/);
    expect(
      upstreamOf(
        loadReportConfig({
          ...base,
          MODELARTS_ENDPOINT: "http://127.0.0.1:4010",
          MODELARTS_TOKEN: "t",
        }),
      )?.endpoint,
    ).toBe("http://127.0.0.1:4010");
    expect(
      fails({ ...base, MODELARTS_ENDPOINT: "https://x.com/v1/p1", MODELARTS_TOKEN: "t" }),
    ).toMatch(/no path/);
  });

  it("validates numeric settings with their range", () => {
    expect(fails({ ...base, MODELARTS_TOKEN: "t", MODELARTS_PAGE_SIZE: "1" })).toBe(
      'MODELARTS_PAGE_SIZE "1" is not a whole number from 2 to 1000',
    );
    expect(
      upstreamOf(loadReportConfig({ ...base, MODELARTS_TOKEN: "t", MODELARTS_CONCURRENCY: "8" }))
        ?.concurrency,
    ).toBe(8);
  });

  it("lets command-line values win over the environment", () => {
    const config = loadReportConfig(
      { REPORT_TIMEZONE: "UTC", REPORT_STORAGE: "file://./a" },
      { timeZone: "Europe/Berlin", storage: "s3://b/p" },
    );
    expect(config.timeZone).toBe("Europe/Berlin");
    expect(config.storage).toBe("s3://b/p");
  });
});

describe("loadApiConfig", () => {
  /** The API functions' environment as the compiled template gives it. */
  const deployed = {
    AWS_LAMBDA_FUNCTION_NAME: "modelarts-usage-report-prod-getReport",
    REPORT_STORAGE: "s3://bucket-1/reports",
    REPORT_TIMEZONE: "Europe/Berlin",
    FAILURE_STATUSES: "3,5,6,13",
    REPORT_API_TOKEN_SECRET: "arn:aws:secretsmanager:eu-central-1:1:secret:api-token",
    REPORT_LINK_KEY_SECRET: "arn:aws:secretsmanager:eu-central-1:1:secret:link-key",
    REPORT_STATE_MACHINE_ARN:
      "arn:aws:states:eu-central-1:1:stateMachine:modelarts-usage-report-prod-run",
  };

  it("reads a deployed API function's settings without any upstream setting", () => {
    const config = loadApiConfig(deployed);
    expect(config).toEqual({
      storage: "s3://bucket-1/reports",
      timeZone: "Europe/Berlin",
      failureStatuses: [3, 5, 6, 13],
      apiToken: { kind: "secret", secretId: deployed.REPORT_API_TOKEN_SECRET },
      linkKey: { kind: "secret", secretId: deployed.REPORT_LINK_KEY_SECRET },
      reportStateMachineArn: deployed.REPORT_STATE_MACHINE_ARN,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("ignores upstream settings, good or bad: they belong to the run's steps", () => {
    expect(() =>
      loadApiConfig({ ...deployed, MODELARTS_ENDPOINT: "ftp://x", MODELARTS_PAGE_SIZE: "0" }),
    ).not.toThrow();
  });

  it("takes REPORT_API_TOKEN on the local stage and never prints it", () => {
    const config = loadApiConfig({ REPORT_API_TOKEN: "local-SECRET-token" });
    expect(config.apiToken.kind).toBe("value");
    expect(config.reportStateMachineArn).toBeNull();
    expect(JSON.stringify(config)).not.toContain("local-SECRET-token");
    expect(inspect(config, { depth: 10 })).not.toContain("local-SECRET-token");
  });

  it("refuses to run without a token, with a plain token in AWS, or with both", () => {
    const apiFails = (env: Record<string, string>) => {
      try {
        loadApiConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error("expected a ConfigError");
    };
    expect(apiFails({})).toMatch(/the API token is not configured/);
    const { REPORT_API_TOKEN_SECRET: _, ...withoutSecret } = deployed;
    expect(apiFails({ ...withoutSecret, REPORT_API_TOKEN: "t" })).toMatch(
      /REPORT_API_TOKEN is for the local stage only/,
    );
    expect(apiFails({ ...deployed, REPORT_API_TOKEN: "t" })).toMatch(/not both/);
  });

  it("needs the link key's secret in AWS, and takes a long enough local key otherwise", () => {
    const { REPORT_LINK_KEY_SECRET: _, ...withoutKey } = deployed;
    expect(() => loadApiConfig(withoutKey)).toThrow(/REPORT_LINK_KEY_SECRET is required/);
    expect(() => loadApiConfig({ ...withoutKey, REPORT_LINK_KEY: "k".repeat(40) })).toThrow(
      /REPORT_LINK_KEY is for the local stage only/,
    );
    expect(loadApiConfig({ REPORT_API_TOKEN: "t" }).linkKey).toBeNull();
    expect(() => loadApiConfig({ REPORT_API_TOKEN: "t", REPORT_LINK_KEY: "short" })).toThrow(
      /at least 32 characters/,
    );
    const local = loadApiConfig({ REPORT_API_TOKEN: "t", REPORT_LINK_KEY: "k".repeat(40) });
    expect(local.linkKey?.kind).toBe("value");
    expect(JSON.stringify(local)).not.toContain("k".repeat(40));
  });
});

describe("loadBaseConfig", () => {
  it("reads only storage, time zone and failure set", () => {
    expect(loadBaseConfig({ REPORT_STORAGE: "file:///x", MODELARTS_ENDPOINT: "bad" })).toEqual({
      storage: "file:///x",
      timeZone: "UTC",
      failureStatuses: [3, 5, 6, 13],
    });
  });
});
