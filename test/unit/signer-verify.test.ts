import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type SignableRequest, signRequest, verifySignature } from "../../src/modelarts/signer.js";
import {
  anySegmentChar,
  base,
  type Case,
  caseOf,
  query,
  segments,
  toRequest,
} from "../helpers/signer-cases.js";

/** Our signer on its own: signing details the oracle cannot judge, and verification. */

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
