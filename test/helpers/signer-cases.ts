import fc from "fast-check";
import type { AkSkCredentials, SignableRequest } from "../../src/modelarts/signer.js";

/** Requests to sign, by hand (`base`) and generated (`caseOf`), for the signer's tests. */

export interface Case {
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

export function toRequest(c: Case): SignableRequest {
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

// ---- generators ----------------------------------------------------------------------

export const UNICODE = ["é", "ß", "Ω", "中文", "日本語", "😀", "€", "ü", "\u00a0", "𝄞"];
/** Characters url.parse passes through unchanged (divergence 2), plus some unicode. */
export const plainSegmentChar = fc.oneof(
  fc.constantFrom(..."abcXYZ019-._~!$&()*+,;=:@%".split("")),
  fc.constantFrom(...UNICODE.filter((u) => !/\s/.test(u))),
  fc
    .string({ unit: "binary", minLength: 1, maxLength: 1 })
    .filter((ch) => (ch.codePointAt(0) ?? 0) > 0xa0 && !/\s/.test(ch)),
);
/** Anything but `/`, for the decoding oracle. */
export const anySegmentChar = fc.oneof(
  plainSegmentChar,
  fc.constantFrom(..." \"'<>\\^`{|}?#[]\t".split("")),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((ch) => ch !== "/"),
);
export const isDotSegment = (s: string): boolean => s === "." || s === "..";
export const segments = (char: fc.Arbitrary<string>): fc.Arbitrary<string[]> =>
  fc
    .array(
      fc.string({ unit: char, maxLength: 8 }).filter((s) => !isDotSegment(s)),
      { maxLength: 5 },
    )
    // A last empty segment is a trailing slash; allow both forms.
    .chain((segs) => fc.constantFrom(segs, [...segs, ""]));

export const queryText = fc.oneof(
  fc.constantFrom("a b", "+", "/", "=", "&", "~", "?", "#", "%", "%20", "é", "中", "😀", ""),
  fc.string({ unit: "binary", maxLength: 6 }),
);
export const query = fc.array(
  fc.tuple(
    fc
      .oneof(fc.constantFrom("limit", "offset", "a b", "k+", "ü", "x=y"), queryText)
      .filter((k) => k !== ""),
    queryText,
  ),
  { maxLength: 6 },
);
/** Few names, so that repeated keys come up often. */
export const repeatedQuery = fc.array(fc.tuple(fc.constantFrom("a", "b", "a b", "é"), queryText), {
  maxLength: 6,
});

export const RESERVED_HEADERS = new Set([
  "host",
  "x-sdk-date",
  "authorization",
  "x-sdk-content-sha256", // the oracle would take it as the body hash
  "x-security-token",
  "x-project-id",
]);
export const headerName = fc
  .stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,11}$/)
  .filter((n) => !RESERVED_HEADERS.has(n.toLowerCase()));
export const padding = fc.constantFrom("", " ", "  ", "\t", " \t ");
export const headerValue = fc
  .tuple(padding, fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/), padding)
  .map(([before, value, after]) => `${before}${value}${after}`);
export const headers = fc.uniqueArray(fc.tuple(headerName, headerValue), {
  maxLength: 6,
  selector: ([name]) => name.toLowerCase(),
});

export const body = fc.option(
  fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
    fc.array(fc.jsonValue(), { maxLength: 4 }),
  ),
  { nil: undefined },
);
export const creds: fc.Arbitrary<AkSkCredentials> = fc.record({
  ak: fc.stringMatching(/^[A-Z0-9]{4,20}$/),
  sk: fc.string({ minLength: 1, maxLength: 40 }),
  securityToken: fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{1,40}$/), { nil: undefined }),
  projectId: fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: undefined }),
});

export const caseOf = (segs: fc.Arbitrary<string[]>, q: fc.Arbitrary<Array<[string, string]>>) =>
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

export const base: Case = {
  method: "GET",
  host: "modelarts.eu-de.otc.t-systems.com",
  segments: ["v1", "0123456789abcdef0123456789abcdef", "training-jobs", "versions"],
  query: [],
  headers: [],
  data: undefined,
  creds: { ak: "HPUAEXAMPLEAK1234567", sk: "example-secret-key-0123456789" },
  date: new Date("2024-03-05T07:08:09.123Z"),
};
