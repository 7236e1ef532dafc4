/**
 * What must never reach a log line even by accident: link signatures (ours and S3's
 * presigned ones) and bearer tokens inside any string, and the values of fields named like
 * secrets. Used as the JSON replacer of the Powertools logger, so it applies to every field
 * and to error messages alike.
 */

// Also percent-encoded, as in a link carried inside another URL's query (`%3F`, `%26`, `%3D`).
const SIGNED_QUERY =
  /((?:^|[?&\s"'(,;]|%3F|%26)(?:signature|X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential)(?:=|%3D))[^&\s"']*/gi;
const BEARER = /(Bearer\s+)\S+/gi;
const SECRET_FIELD = /^(signature|authorization|token|password|sk|secret|api_?token|link_?key)$/i;

export function redactText(text: string): string {
  return text.replace(SIGNED_QUERY, "$1[redacted]").replace(BEARER, "$1[redacted]");
}

/** A JSON.stringify replacer that redacts secret-named fields and secrets inside strings. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (SECRET_FIELD.test(key) && value !== undefined && value !== null) return "[redacted]";
  if (typeof value === "string") return redactText(value);
  return value;
}
