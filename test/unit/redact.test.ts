import { describe, expect, it } from "vitest";
import { redactingReplacer, redactText } from "../../src/lib/redact.js";

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
    expect(redactText("Authorization: Bearer abc.def")).toBe("Authorization: Bearer [redacted]");
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
});
