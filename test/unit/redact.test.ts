import { Logger } from "@aws-lambda-powertools/logger";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { redactingReplacer, redactText } from "../../src/shared/redact.js";
import { captureOutput } from "../helpers/log-capture.js";

describe("log redaction", () => {
  it("hides link and presigned-URL signatures and bearer tokens inside any text", () => {
    expect(redactText("GET /reports/latest?scope=latest&expires=1&signature=AbC-_123 failed")).toBe(
      "GET /reports/latest?scope=latest&expires=1&signature=[redacted] failed",
    );
    expect(
      redactText(
        "https://s3/x?X-Amz-Credential=AKIA%2F1&X-Amz-Security-Token=tok&X-Amz-Signature=abcdef",
      ),
    ).toBe(
      "https://s3/x?X-Amz-Credential=[redacted]&X-Amz-Security-Token=[redacted]&X-Amz-Signature=[redacted]",
    );
    expect(redactText("Authorization: Bearer abc.def")).toBe("Authorization: [redacted]");
    // A link inside another URL's query, percent-encoded (found by review).
    const nested = redactText(
      "https://x/?next=%2Freports%2Flatest%3Fscope%3Dlatest%26expires%3D1%26signature%3DAbC-_123",
    );
    expect(nested).not.toContain("AbC-_123");
    expect(nested).toContain("signature%3D[redacted]");
    // And the plain word stays: only a parameter is redacted.
    expect(redactText("the signature is checked")).toBe("the signature is checked");
  });

  it("hides the values of fields named like secrets, at any depth", () => {
    const logged = JSON.stringify(
      {
        message: "x",
        signature: "s1",
        nested: { authorization: "Bearer t", token: "t", safe: "kept", sk: "k" },
        url: "/r?signature=s2",
      },
      redactingReplacer,
    );
    expect(logged).not.toMatch(/s1|s2|"t"|Bearer t|"k"/);
    expect(logged).toContain('"safe":"kept"');
  });

  // Issue 18: each of these reached the log before.
  it.each([
    ["a signature field inside JSON text", '{"scope":"latest","signature":"SECRETVALUE1"}'],
    ["the same JSON text escaped once more", '{\\"signature\\": \\"SECRETVALUE1\\"}'],
    ["an X-Auth-Token header line", "GET /v1/p/training-jobs\nX-Auth-Token: SECRETVALUE1\n"],
    ["an X-Subject-Token header line", "x-subject-token:SECRETVALUE1"],
    [
      "a double-encoded signature",
      "/go?next=%2Fr%253Fscope%253Dlatest%2526signature%253DSECRETVALUE1",
    ],
    ["a signature in a fragment", "https://api/reports/latest#scope=latest&signature=SECRETVALUE1"],
    [
      "a signature right after the fragment mark",
      "https://api/reports/latest#signature=SECRETVALUE1",
    ],
  ])("hides %s", (_label, text) => {
    expect(redactText(text)).not.toContain("SECRETVALUE1");
    expect(JSON.stringify({ message: text }, redactingReplacer)).not.toContain("SECRETVALUE1");
  });

  it.each([
    "x-auth-token",
    "X-Auth-Token",
    "security_token",
    "securityToken",
    "MODELARTS_SK",
    "MODELARTS_SECURITY_TOKEN",
    "IAM_PASSWORD",
    "REPORT_LINK_KEY",
    "x-subject-token",
    "cookie",
  ])("hides the value of a field named %s", (name) => {
    const logged = JSON.stringify({ deep: [{ [name]: "SECRETVALUE1" }] }, redactingReplacer);
    expect(logged).not.toContain("SECRETVALUE1");
  });

  it("keeps fields that only look alike", () => {
    const kept = { tokens: 3, token_count: 2, key: "daily/2026-11-27/report.json", task: "sk" };
    expect(JSON.parse(JSON.stringify(kept, redactingReplacer))).toEqual(kept);
  });

  it("hides credentials after an encoded authorization scheme, and PascalCase key names", () => {
    // Found by review: `Basic%20` ended the value before the credentials, and
    // `SecretAccessKey` was not taken for a secret's name.
    const text = redactText(
      "GET /x?authorization=Basic%20QWxhZGRpbjpzZXNhbWU&a=1 &authorization=Bearer+tok9",
    );
    expect(text).not.toContain("QWxhZGRpbjpzZXNhbWU");
    expect(text).not.toContain("tok9");
    expect(text).toContain("a=1");
    const fields = JSON.stringify(
      { SecretAccessKey: "wJalrXUtnFEMIK7MDENG", AccessKeyId: "AKIDEXAMPLE" },
      redactingReplacer,
    );
    expect(fields).not.toContain("wJalrXUtnFEMIK7MDENG");
    expect(redactText("SecretAccessKey=wJalrXUtnFEMIK7MDENG")).not.toContain(
      "wJalrXUtnFEMIK7MDENG",
    );
  });
});

/**
 * Property: a secret placed anywhere a secret goes in a logged value — under a field named
 * like one (any spelling, any depth, inside arrays), as a query or fragment parameter (plain,
 * percent-encoded once or twice), as a header line, as a JSON field inside text (escaped or
 * not), after `Bearer` — never reaches the log line.
 */
const SECRET = fc.stringMatching(/^[A-Za-z0-9_\-.~+/=]{16,48}$/).map((s) => `Zq${s}`);
const FIELD_NAMES = [
  "signature",
  "Signature",
  "token",
  "x-auth-token",
  "X-Auth-Token",
  "x_auth_token",
  "security_token",
  "securityToken",
  "MODELARTS_SK",
  "MODELARTS_SECURITY_TOKEN",
  "sk",
  "SK",
  "password",
  "IAM_PASSWORD",
  "api_token",
  "apiToken",
  "authorization",
  "Authorization",
  "link_key",
  "REPORT_LINK_KEY",
  "secret",
  "client_secret",
  "x-subject-token",
  "cookie",
] as const;
const PARAMS = [
  "signature",
  "Signature",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
  "X-Amz-Credential",
] as const;
const HEADERS = ["X-Auth-Token", "x-auth-token", "X-Subject-Token", "Authorization", "Cookie"];

type Place = (secret: string) => unknown;

const inText: fc.Arbitrary<Place> = fc.oneof(
  // A query or fragment parameter, percent-encoded 0, 1 or 2 times.
  fc
    .tuple(
      fc.constantFrom(...PARAMS),
      fc.constantFrom("?", "&", "#", " ", '"', "'", "(", ",", ";"),
      fc.integer({ min: 0, max: 2 }),
      fc.constantFrom("", "&next=1", " failed", "#frag"),
    )
    .map(([name, sep, encodings, tail]) => (secret: string) => {
      let param = `${sep}${name}=${secret}`;
      for (let i = 0; i < encodings; i++) param = encodeURIComponent(param);
      return `https://api.example.com/r?scope=latest${param}${tail}`;
    }),
  // A header line in a request or error dump.
  fc.tuple(fc.constantFrom(...HEADERS), fc.constantFrom(":", ": ", " : ", ":\t")).map(
    ([name, colon]) =>
      (secret: string) =>
        `POST /v3/auth/tokens\r\n${name}${colon}${secret}\r\nContent-Type: application/json`,
  ),
  // A JSON field inside text, plain or escaped once more.
  fc
    .tuple(fc.constantFrom(...FIELD_NAMES), fc.boolean(), fc.constantFrom(":", ": ", " : "))
    .map(([name, escaped, colon]) => (secret: string) => {
      const json = `{"scope":"latest","${name}"${colon}"${secret}","n":1}`;
      return escaped ? JSON.stringify(json) : json;
    }),
  fc.constant((secret: string) => `request failed: Authorization: Bearer ${secret}`),
  fc.constant((secret: string) => `Bearer ${secret}`),
);

const place: fc.Arbitrary<Place> = fc.letrec<{ value: Place }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    inText,
    fc
      .tuple(fc.constantFrom(...FIELD_NAMES), fc.constantFrom("plain", "array", "object"))
      .map(([name, shape]) => (secret: string) => ({
        [name]: shape === "plain" ? secret : shape === "array" ? [secret] : { v: secret },
      })),
    tie("value").map((inner) => (secret: string) => ({ detail: inner(secret), ok: true })),
    tie("value").map((inner) => (secret: string) => ["before", inner(secret)]),
  ),
})).value;

describe("log redaction, as a property", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("never lets a secret placed anywhere in a logged value reach the log line", () => {
    fc.assert(
      fc.property(SECRET, place, (secret, at) => {
        const line = JSON.stringify({ message: "m", extra: at(secret) }, redactingReplacer);
        expect(line).not.toContain(secret);
        // Nor a part long enough to be of use.
        expect(line).not.toContain(secret.slice(0, 12));
      }),
      { numRuns: 2000, seed: 18 },
    );
  });

  it("holds through the Powertools logger the handlers use", () => {
    const lines: string[] = [];
    captureOutput(lines);
    const logger = new Logger({ serviceName: "t", jsonReplacerFn: redactingReplacer });
    fc.assert(
      fc.property(SECRET, place, (secret, at) => {
        lines.length = 0;
        logger.info("logged", { extra: at(secret) });
        logger.warn(`in the message: ${JSON.stringify(at(secret))}`);
        logger.error("an error", new Error(String(JSON.stringify(at(secret)))));
        expect(lines.join("")).not.toContain(secret);
        expect(lines.length).toBeGreaterThan(0);
      }),
      { numRuns: 300, seed: 18 },
    );
  });
});
