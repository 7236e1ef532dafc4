import { createHash, createHmac } from "node:crypto";
import { AKSKSigner } from "@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js";
import type { ICredential } from "@huaweicloud/huaweicloud-sdk-core/auth/ICredential.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AkSkCredentials,
  type SignableRequest,
  signRequest,
  verifySignature,
} from "../../src/modelarts/signer.js";

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

interface Case {
  method: string;
  host: string;
  /** Decoded path segments, without the leading empty one. */
  segments: string[];
  query: Array<[string, string]>;
  /** Names as the caller writes them, values possibly padded with whitespace. */
  headers: Array<[string, string]>;
  /** JSON value sent as the body, or undefined for an empty body. */
  data: object | undefined;
  creds: AkSkCredentials;
  date: Date;
}

function toRequest(c: Case): SignableRequest {
  const url = new URL(`https://${c.host}`);
  url.pathname = `/${c.segments.map(encodeURIComponent).join("/")}`;
  for (const [name, value] of c.query) url.searchParams.append(name, value);
  return {
    method: c.method,
    url,
    headers: Object.fromEntries(c.headers),
    body: c.data === undefined ? "" : JSON.stringify(c.data),
  };
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

// ---- generators ----------------------------------------------------------------------

const UNICODE = ["é", "ß", "Ω", "中文", "日本語", "😀", "€", "ü", "\u00a0", "𝄞"];
/** Characters url.parse passes through unchanged (divergence 2), plus some unicode. */
const plainSegmentChar = fc.oneof(
  fc.constantFrom(..."abcXYZ019-._~!$&()*+,;=:@%".split("")),
  fc.constantFrom(...UNICODE.filter((u) => !/\s/.test(u))),
  fc
    .string({ unit: "binary", minLength: 1, maxLength: 1 })
    .filter((ch) => (ch.codePointAt(0) ?? 0) > 0xa0 && !/\s/.test(ch)),
);
/** Anything but `/`, for the decoding oracle. */
const anySegmentChar = fc.oneof(
  plainSegmentChar,
  fc.constantFrom(..." \"'<>\\^`{|}?#[]\t".split("")),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((ch) => ch !== "/"),
);
const isDotSegment = (s: string): boolean => s === "." || s === "..";
const segments = (char: fc.Arbitrary<string>): fc.Arbitrary<string[]> =>
  fc
    .array(
      fc.string({ unit: char, maxLength: 8 }).filter((s) => !isDotSegment(s)),
      { maxLength: 5 },
    )
    // A last empty segment is a trailing slash; allow both forms.
    .chain((segs) => fc.constantFrom(segs, [...segs, ""]));

const queryText = fc.oneof(
  fc.constantFrom("a b", "+", "/", "=", "&", "~", "?", "#", "%", "%20", "é", "中", "😀", ""),
  fc.string({ unit: "binary", maxLength: 6 }),
);
const query = fc.array(
  fc.tuple(
    fc
      .oneof(fc.constantFrom("limit", "offset", "a b", "k+", "ü", "x=y"), queryText)
      .filter((k) => k !== ""),
    queryText,
  ),
  { maxLength: 6 },
);
/** Few names, so that repeated keys come up often. */
const repeatedQuery = fc.array(fc.tuple(fc.constantFrom("a", "b", "a b", "é"), queryText), {
  maxLength: 6,
});

const RESERVED_HEADERS = new Set([
  "host",
  "x-sdk-date",
  "authorization",
  "x-sdk-content-sha256", // the oracle would take it as the body hash
  "x-security-token",
  "x-project-id",
]);
const headerName = fc
  .stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,11}$/)
  .filter((n) => !RESERVED_HEADERS.has(n.toLowerCase()));
const padding = fc.constantFrom("", " ", "  ", "\t", " \t ");
const headerValue = fc
  .tuple(padding, fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/), padding)
  .map(([before, value, after]) => `${before}${value}${after}`);
const headers = fc.uniqueArray(fc.tuple(headerName, headerValue), {
  maxLength: 6,
  selector: ([name]) => name.toLowerCase(),
});

const body = fc.option(
  fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
    fc.array(fc.jsonValue(), { maxLength: 4 }),
  ),
  { nil: undefined },
);
const creds: fc.Arbitrary<AkSkCredentials> = fc.record({
  ak: fc.stringMatching(/^[A-Z0-9]{4,20}$/),
  sk: fc.string({ minLength: 1, maxLength: 40 }),
  securityToken: fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{1,40}$/), { nil: undefined }),
  projectId: fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: undefined }),
});

const caseOf = (segs: fc.Arbitrary<string[]>, q: fc.Arbitrary<Array<[string, string]>>) =>
  fc.record({
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
    host: fc.constantFrom(
      "modelarts.eu-de.otc.t-systems.com",
      "modelarts.cn-north-4.myhuaweicloud.com",
      "127.0.0.1:8443",
      "[::1]:9000",
    ),
    segments: segs,
    query: q,
    headers,
    data: body,
    creds,
    date: fc.date({
      min: new Date("2000-01-01T00:00:00Z"),
      max: new Date("2099-12-31T23:59:59Z"),
      noInvalidDate: true,
    }),
  });

const base: Case = {
  method: "GET",
  host: "modelarts.eu-de.otc.t-systems.com",
  segments: ["v1", "0123456789abcdef0123456789abcdef", "training-jobs", "versions"],
  query: [],
  headers: [],
  data: undefined,
  creds: { ak: "HPUAEXAMPLEAK1234567", sk: "example-secret-key-0123456789" },
  date: new Date("2024-03-05T07:08:09.123Z"),
};

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

describe("signRequest", () => {
  it("adds X-Sdk-Date, host and Authorization, and the optional token and project headers", () => {
    const added = signRequest(
      toRequest(base),
      { ...base.creds, securityToken: "t", projectId: "p" },
      base.date,
    );
    expect(Object.keys(added).sort()).toEqual(
      ["Authorization", "X-Project-Id", "X-Sdk-Date", "X-Security-Token", "host"].sort(),
    );
    expect(added["X-Sdk-Date"]).toBe("20240305T070809Z");
    expect(added.host).toBe(base.host);
    expect(added.Authorization).toContain(
      "SignedHeaders=host;x-project-id;x-sdk-date;x-security-token,",
    );
  });

  it("keeps a Host header the caller set instead of adding one", () => {
    const req = toRequest({ ...base, headers: [["Host", "proxy.example.com"]] });
    expect(signRequest(req, base.creds, base.date)).not.toHaveProperty("host");
  });

  it("refuses a request that already carries Authorization or X-Sdk-Date", () => {
    for (const name of ["Authorization", "x-sdk-date"]) {
      const req = { ...toRequest(base), headers: { [name]: "x" } };
      expect(() => signRequest(req, base.creds, base.date)).toThrow(name.toLowerCase());
    }
  });
});

describe("verifySignature", () => {
  const secrets = new Map([[base.creds.ak, base.creds.sk]]);
  const lookup = (ak: string): string | undefined => secrets.get(ak);

  /** The request as the simulator's node:http server sees it. */
  function received(req: SignableRequest, added: Record<string, string>) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries({ ...req.headers, ...added })) {
      headers[name.toLowerCase()] = value.trim(); // node strips the optional whitespace
    }
    return {
      method: req.method,
      path: req.url.pathname,
      query: new URLSearchParams(req.url.search),
      headers,
      body: req.body,
    };
  }

  function signed(c: Case = { ...base, query: [["limit", "10"]], method: "POST", data: { a: 1 } }) {
    const req = toRequest(c);
    return received(req, signRequest(req, c.creds, c.date));
  }

  it("accepts what signRequest signed, for generated requests", () => {
    fc.assert(
      fc.property(caseOf(segments(anySegmentChar), query), (c) => {
        const req = toRequest(c);
        const result = verifySignature(
          received(req, signRequest(req, c.creds, c.date)),
          (ak) => (ak === c.creds.ak ? c.creds.sk : undefined),
          c.date,
        );
        expect(result).toEqual({ ok: true, ak: c.creds.ak });
      }),
      { numRuns: 200 },
    );
  });

  const rejections: Array<[string, (r: ReturnType<typeof signed>) => void, RegExp]> = [
    ["a tampered query", (r) => r.query.set("limit", "11"), /signature does not match/],
    ["an added query parameter", (r) => r.query.append("x", "1"), /signature does not match/],
    ["a tampered body", (r) => Object.assign(r, { body: '{"a":2}' }), /signature does not match/],
    [
      "a tampered path",
      (r) => Object.assign(r, { path: `${r.path}x` }),
      /signature does not match/,
    ],
    [
      "a tampered signed header",
      (r) => Object.assign(r.headers, { host: "evil.example.com" }),
      /signature does not match/,
    ],
    ["another method", (r) => Object.assign(r, { method: "PUT" }), /signature does not match/],
    [
      "a missing Authorization header",
      (r) => Object.assign(r.headers, { authorization: undefined }),
      /missing Authorization/,
    ],
    [
      "a malformed Authorization header",
      (r) => Object.assign(r.headers, { authorization: "Bearer abc" }),
      /malformed/,
    ],
    [
      "an unknown AK",
      (r) =>
        Object.assign(r.headers, {
          authorization: r.headers.authorization?.replace(/Access=[^,]+/, "Access=NOPE"),
        }),
      /unknown AK NOPE/,
    ],
    [
      "SignedHeaders without host",
      (r) =>
        Object.assign(r.headers, {
          authorization: r.headers.authorization?.replace("SignedHeaders=host;", "SignedHeaders="),
        }),
      /must include host/,
    ],
    [
      "SignedHeaders without x-sdk-date",
      (r) =>
        Object.assign(r.headers, {
          authorization: r.headers.authorization?.replace(";x-sdk-date", ""),
        }),
      /must include x-sdk-date/,
    ],
    [
      "unsorted SignedHeaders",
      (r) =>
        Object.assign(r.headers, {
          authorization: r.headers.authorization?.replace("host;x-sdk-date", "x-sdk-date;host"),
        }),
      /sorted/,
    ],
    [
      "a signed header that was not sent",
      (r) => Object.assign(r.headers, { host: undefined }),
      /signed header host is missing/,
    ],
    [
      "a malformed X-Sdk-Date",
      (r) => Object.assign(r.headers, { "x-sdk-date": "2024-03-05T07:08:09Z" }),
      /X-Sdk-Date/,
    ],
  ];
  it.each(rejections)("rejects %s", (_name, tamper, reason) => {
    const r = signed();
    tamper(r);
    const result = verifySignature(r, lookup, base.date);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(reason);
      expect(result.reason).not.toContain(base.creds.sk);
    }
  });

  it("rejects a signature made with a wrong SK, without naming either SK", () => {
    const req = toRequest(base);
    const r = received(req, signRequest(req, { ...base.creds, sk: "wrong-secret" }, base.date));
    const result = verifySignature(r, lookup, base.date);
    expect(result).toEqual({ ok: false, reason: "signature does not match" });
  });

  it("rejects a date more than 15 minutes away and accepts one within", () => {
    const r = signed();
    const at = (minutes: number) => new Date(base.date.getTime() + minutes * 60_000);
    expect(verifySignature(r, lookup, at(14)).ok).toBe(true);
    expect(verifySignature(r, lookup, at(-14)).ok).toBe(true);
    const late = verifySignature(r, lookup, at(16));
    expect(late).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/away from the server clock/),
    });
    expect(verifySignature(r, lookup, at(-16)).ok).toBe(false);
    expect(verifySignature(r, lookup, at(2), 60_000).ok).toBe(false);
  });
});
