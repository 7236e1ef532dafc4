import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/lib/config.js";
import { ConfigError } from "../../src/lib/errors.js";

const base = {
  MODELARTS_ENDPOINT: "https://modelarts.eu-de.otc.t-systems.com",
  MODELARTS_PROJECT_ID: "p1",
};

function fails(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("uses the demo and local defaults when nothing is set", () => {
    const config = loadConfig({});
    expect(config).toEqual({
      storage: "file://./reports",
      timeZone: "UTC",
      failureStatuses: [3, 5, 6, 13],
      upstream: null,
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
    expect(loadConfig({ FAILURE_STATUSES: "13, 3,11,5,6,3" }).failureStatuses).toEqual([
      3, 5, 6, 11, 13,
    ]);
    expect(fails({ FAILURE_STATUSES: "3,x" })).toMatch(/^FAILURE_STATUSES "3,x"/);
  });

  it("requires an endpoint when running in AWS", () => {
    expect(fails({ AWS_LAMBDA_FUNCTION_NAME: "f" })).toMatch(/MODELARTS_ENDPOINT is required/);
  });

  it("reads token auth and never shows the token when printed", () => {
    const config = loadConfig({ ...base, MODELARTS_TOKEN: "tok-SECRET-123" });
    expect(config.upstream?.auth.kind).toBe("token");
    expect(JSON.stringify(config)).not.toContain("tok-SECRET-123");
    expect(inspect(config, { depth: 10 })).not.toContain("tok-SECRET-123");
  });

  it("reads AK/SK and IAM password auth", () => {
    expect(
      loadConfig({ ...base, MODELARTS_AK: "AK", MODELARTS_SK: "SK" }).upstream?.auth.kind,
    ).toBe("aksk");
    const iam = loadConfig({
      ...base,
      IAM_ENDPOINT: "https://iam.eu-de.otc.t-systems.com",
      IAM_USERNAME: "u",
      IAM_PASSWORD: "p",
      IAM_DOMAIN: "d",
    });
    expect(iam.upstream?.auth).toMatchObject({ kind: "iam", username: "u", domain: "d" });
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
      loadConfig({ ...base, MODELARTS_ENDPOINT: "http://127.0.0.1:4010", MODELARTS_TOKEN: "t" })
        .upstream?.endpoint,
    ).toBe("http://127.0.0.1:4010");
    expect(
      fails({ ...base, MODELARTS_ENDPOINT: "https://x.com/v1/p1", MODELARTS_TOKEN: "t" }),
    ).toMatch(/no path/);
  });

  it("validates numeric settings with their range", () => {
    expect(fails({ ...base, MODELARTS_TOKEN: "t", MODELARTS_PAGE_SIZE: "0" })).toBe(
      'MODELARTS_PAGE_SIZE "0" is not a whole number from 1 to 1000',
    );
    expect(
      loadConfig({ ...base, MODELARTS_TOKEN: "t", MODELARTS_CONCURRENCY: "8" }).upstream
        ?.concurrency,
    ).toBe(8);
  });

  it("lets command-line values win over the environment", () => {
    const config = loadConfig(
      { REPORT_TIMEZONE: "UTC", REPORT_STORAGE: "file://./a" },
      { timeZone: "Europe/Berlin", storage: "s3://b/p" },
    );
    expect(config.timeZone).toBe("Europe/Berlin");
    expect(config.storage).toBe("s3://b/p");
  });
});
