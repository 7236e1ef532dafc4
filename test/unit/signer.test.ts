import { createHash, createHmac } from "node:crypto";
import { AKSKSigner } from "@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js";
import type { ICredential } from "@huaweicloud/huaweicloud-sdk-core/auth/ICredential.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signRequest } from "../../src/modelarts/signer.js";
import {
  anySegmentChar,
  base,
  type Case,
  caseOf,
  plainSegmentChar,
  query,
  repeatedQuery,
  segments,
  toRequest,
} from "../helpers/signer-cases.js";

/*
 * The official SDK core's AKSKSigner is the oracle. Where it differs from the spec (and from
 * what API Gateway checks), the adapter below hands it the input in the form it expects and
 * the spec's behaviour is tested on its own:
 *
 * 1. It does not trim header values (the spec signs `name:trimmed-value`). The oracle gets the
 *    trimmed values; a separate test checks that padding does not change our signature.
 * 2. It encodes the path it is given without decoding it first, after `url.parse`, which
 *    itself escapes space, quotes, `<>\^`{|}`. So a path with a space is signed as `%2520`,
 *    while the gateway decodes the path and re-encodes each segment (as the APIG reference
 *    signers do: `unescape(uri)`, Go's decoded `URL.Path`). The plain oracle therefore gets the
 *    decoded path and only characters `url.parse` leaves alone; for the others `DecodingOracle`
 *    (its own encoder, fed the decoded path, i.e. what the reference signers do) and a
 *    hand-written known-answer test check the spec's behaviour.
 * 3. It hashes `JSON.stringify(request.data)`, not a body string: the oracle gets the value,
 *    we get its JSON text. Raw non-JSON bodies are covered by the known-answer test.
 * 4. It sorts the canonical header lines with `localeCompare` (ICU collation) but the
 *    SignedHeaders list by code units; the two differ for names with `_`. Names here are
 *    `[A-Za-z0-9-]`, where both orders agree; we always sort by code units.
 * 5. It always adds a lower-case `host`, so a caller's `Host` would appear twice; the adapter
 *    renames a caller's host header to `host`.
 */

const oracleCredential = (ak: string, sk: string): ICredential => ({
  getAk: () => ak,
  getSk: () => sk,
  processAuthRequest: () => Promise.reject(new Error("not used")),
  processAuthParams: () => Promise.reject(new Error("not used")),
});

/** Divergence 2: what the reference signers do, decode the path as sent, then encode. */
class DecodingOracle extends AKSKSigner {
  protected static override CanonicalURI(inputUri?: string): string | undefined {
    return AKSKSigner.CanonicalURI(
      inputUri === undefined ? undefined : decodeURIComponent(inputUri),
    );
  }
}

function sdkDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

function oracleAuthorization(c: Case, signer: typeof AKSKSigner, endpoint: string): string {
  const headers: Record<string, string> = { "X-Sdk-Date": sdkDate(c.date) };
  for (const [name, value] of c.headers) {
    headers[name.toLowerCase() === "host" ? "host" : name] = value.trim();
  }
  if (c.creds.securityToken !== undefined) headers["X-Security-Token"] = c.creds.securityToken;
  if (c.creds.projectId !== undefined) headers["X-Project-Id"] = c.creds.projectId;
  const queryParams: Record<string, string | string[]> = {};
  for (const [name, value] of c.query) {
    const seen = Object.hasOwn(queryParams, name) ? queryParams[name] : undefined;
    if (seen === undefined)
      Object.defineProperty(queryParams, name, { value, enumerable: true, writable: true });
    else queryParams[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  const signed: Record<string, unknown> = signer.sign(
    { method: c.method, endpoint, headers, queryParams, data: c.data },
    oracleCredential(c.creds.ak, c.creds.sk),
  );
  const authorization = signed.Authorization;
  if (typeof authorization !== "string") throw new Error("the oracle gave no Authorization");
  return authorization;
}

/** The plain oracle, given the decoded path (divergence 2). */
function plainOracle(c: Case): string {
  return oracleAuthorization(c, AKSKSigner, `https://${c.host}/${c.segments.join("/")}`);
}

/** The oracle fed the path as we send it, decoded before encoding. */
function decodingOracle(c: Case): string {
  return oracleAuthorization(c, DecodingOracle, toRequest(c).url.href.split("?")[0] ?? "");
}

function ours(c: Case): string {
  return signRequest(toRequest(c), c.creds, c.date).Authorization ?? "";
}

// ---- tests ----------------------------------------------------------------------------

describe("signRequest agrees with the official SDK signer", () => {
  const table: Array<[string, Partial<Case>]> = [
    ["the ModelArts listing call without a query", {}],
    [
      "a listing call with paging",
      {
        query: [
          ["offset", "0"],
          ["limit", "20"],
        ],
      },
    ],
    ["a path with a trailing slash", { segments: ["v1", "p", "training-jobs", ""] }],
    ["the root path", { segments: [] }],
    ["a path with unicode segments", { segments: ["v1", "é", "中文", "😀"] }],
    ["a path with reserved characters", { segments: ["v1", "a:b@c", "!$&()*+,;=", "~-._"] }],
    ["a path with a literal percent sign", { segments: ["v1", "50%", "%41"] }],
    ["an empty segment in the path", { segments: ["v1", "", "x"] }],
    ["a query value with a space", { query: [["a", "a b"]] }],
    [
      "query values with + / = & ~",
      {
        query: [
          ["p", "+"],
          ["s", "/"],
          ["e", "="],
          ["amp", "&"],
          ["t", "~"],
        ],
      },
    ],
    [
      "a query with unicode names and values",
      {
        query: [
          ["ü", "中文"],
          ["😀", "é"],
        ],
      },
    ],
    ["a query name with reserved characters", { query: [["a b&c=d", "x"]] }],
    [
      "query names out of order",
      {
        query: [
          ["z", "1"],
          ["a", "2"],
          ["m", "3"],
        ],
      },
    ],
    [
      "a repeated query name, values out of order",
      {
        query: [
          ["k", "b"],
          ["k", "a"],
          ["k", "c"],
        ],
      },
    ],
    ["a query parameter with an empty value", { query: [["flag", ""]] }],
    [
      "query names differing only in case",
      {
        query: [
          ["B", "1"],
          ["a", "2"],
          ["A", "3"],
        ],
      },
    ],
    [
      "mixed-case header names",
      {
        headers: [
          ["Content-Type", "application/json"],
          ["X-Custom", "1"],
        ],
      },
    ],
    [
      "padded header values",
      {
        headers: [
          ["Accept", "  application/json\t"],
          ["x-a", " b "],
        ],
      },
    ],
    ["a header value with inner spaces", { headers: [["X-Note", "a  b   c"]] }],
    ["a caller-supplied Host header", { headers: [["Host", "proxy.example.com:8080"]] }],
    ["a JSON body", { method: "POST", data: { name: "job", n: 1 } }],
    ["a JSON array body", { method: "PUT", data: [1, "two", null] }],
    ["a unicode JSON body", { method: "POST", data: { text: "中文 😀" } }],
    ["a DELETE without a body", { method: "DELETE" }],
    ["temporary credentials", { creds: { ...base.creds, securityToken: "tok+/=en" } }],
    [
      "a project id header",
      { creds: { ...base.creds, projectId: "0123456789abcdef0123456789abcdef" } },
    ],
    ["a secret key with unicode", { creds: { ak: "AK", sk: "sëcret ключ" } }],
    ["a host with a port", { host: "127.0.0.1:8443" }],
    ["an IPv6 host", { host: "[::1]:9000" }],
    ["a date at the end of a leap day", { date: new Date("2024-02-29T23:59:59.999Z") }],
    ["a date before 2000", { date: new Date("1999-12-31T00:00:00Z") }],
  ];
  it.each(table)("for %s", (_name, overrides) => {
    const c: Case = { ...base, ...overrides };
    expect(ours(c)).toBe(plainOracle(c));
  });

  it("for generated requests (unicode, reserved characters, padded headers, bodies)", () => {
    fc.assert(
      fc.property(caseOf(segments(plainSegmentChar), query), (c) => {
        expect(ours(c)).toBe(plainOracle(c));
      }),
      { numRuns: 400 },
    );
  });

  it("for generated requests with repeated query names", () => {
    fc.assert(
      fc.property(caseOf(segments(plainSegmentChar), repeatedQuery), (c) => {
        expect(ours(c)).toBe(plainOracle(c));
      }),
      { numRuns: 200 },
    );
  });
});

describe("signRequest follows the spec where the SDK signer does not", () => {
  const table: Array<[string, string[]]> = [
    ["a space", ["v1", "a b"]],
    ["quotes", ["v1", `it's "x"`]],
    ["<>\\^`{|}", ["v1", "<>\\^`{|}"]],
    ["an encoded ? and #", ["v1", "a?b#c"]],
    ["a tab", ["v1", "a\tb"]],
  ];
  it.each(table)("signs a path with %s as the gateway decodes and re-encodes it", (_n, segs) => {
    const c: Case = { ...base, segments: segs };
    expect(ours(c)).toBe(decodingOracle(c));
  });

  it("signs any path as the gateway decodes and re-encodes it", () => {
    fc.assert(
      fc.property(caseOf(segments(anySegmentChar), query), (c) => {
        expect(ours(c)).toBe(decodingOracle(c));
      }),
      { numRuns: 300 },
    );
  });

  it("signs trimmed header values, so padding does not change the signature", () => {
    const padded = signRequest(
      {
        method: "GET",
        url: new URL("https://h.example.com/x"),
        headers: { "X-A": " \t v  w \t" },
        body: "",
      },
      base.creds,
      base.date,
    );
    const trimmed = signRequest(
      {
        method: "GET",
        url: new URL("https://h.example.com/x"),
        headers: { "X-A": "v  w" },
        body: "",
      },
      base.creds,
      base.date,
    );
    expect(padded.Authorization).toBe(trimmed.Authorization);
  });

  it("matches a canonical request written out by hand from the spec", () => {
    const sk = "my-sk";
    const body = "raw body, not JSON ✓";
    const added = signRequest(
      {
        method: "post",
        url: new URL("https://api.example.com:8443/v1/a%20b/%E2%82%AC/x'y?b=2&a=%2B+c&a=%2F&z"),
        headers: { "Content-Type": " text/plain ", "X-Zeta": "1" },
        body,
      },
      { ak: "MYAK", sk, securityToken: "TOKEN" },
      new Date("2024-01-02T03:04:05.678Z"),
    );
    const canonical = [
      "POST",
      "/v1/a%20b/%E2%82%AC/x%27y/",
      "a=%2B%20c&a=%2F&b=2&z=",
      "content-type:text/plain\nhost:api.example.com:8443\nx-sdk-date:20240102T030405Z\nx-security-token:TOKEN\nx-zeta:1\n",
      "content-type;host;x-sdk-date;x-security-token;x-zeta",
      createHash("sha256").update(body, "utf8").digest("hex"),
    ].join("\n");
    const toSign = `SDK-HMAC-SHA256\n20240102T030405Z\n${createHash("sha256").update(canonical).digest("hex")}`;
    const signature = createHmac("sha256", sk).update(toSign).digest("hex");
    expect(added).toEqual({
      "X-Sdk-Date": "20240102T030405Z",
      host: "api.example.com:8443",
      "X-Security-Token": "TOKEN",
      Authorization: `SDK-HMAC-SHA256 Access=MYAK, SignedHeaders=content-type;host;x-sdk-date;x-security-token;x-zeta, Signature=${signature}`,
    });
  });
});
