/**
 * What must never reach a log line even by accident: link signatures (ours and S3's
 * presigned ones), tokens, keys and passwords, wherever they sit in a logged value: the value
 * of a field named like a secret (`sk`, `x-auth-token`, `securityToken`, `MODELARTS_SK`…), and
 * inside any string a query or fragment parameter (plain or percent-encoded, once or twice),
 * a header line, a JSON field of text that holds JSON (escaped or not), or a bearer token.
 * Used as the JSON replacer of the Powertools logger, so it applies to every field and to
 * error messages and stacks alike.
 */

/**
 * A name (field, parameter, header) whose value is a secret, in any case and spelling:
 * `token`, `x-auth-token`, `security_token`, `securityToken`, `MODELARTS_SK`, `IAM_PASSWORD`,
 * `REPORT_LINK_KEY`, `X-Amz-Signature`, `X-Amz-Credential`, `cookie`. Not `tokens`,
 * `token_count`, `key` or `task`.
 */
export function isSecretName(name: string): boolean {
  // camelCase and PascalCase split like snake_case: `SecretAccessKey` is `secret_access_key`.
  const n = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[-.\s]/g, "_");
  return (
    /(token|password|passwd|secret|signature|authorization|credentials?|cookie)$/.test(n) ||
    /(^|_)(sk|(link|api|access|secret|private|signing)_?key)$/.test(n)
  );
}

const REDACTED = "[redacted]";

/**
 * `name=value` after a separator of a query, a fragment or prose (`?`, `&`, `#`, a space, a
 * quote…), raw or percent-encoded, as in a link carried inside another URL's query (`%3F`,
 * `%26`, and `%2526` when it was encoded twice); `=` may be encoded too. A value ends at the
 * next separator, raw or encoded, so a parameter that is no secret never hides the next one.
 */
const SEP_ENCODED = "%(?:25)*(?:3F|26|23|20|22|27|28|2C|3B|0A|0D|09)";
/** An authorization scheme before its credentials, its space encoded (`Basic%20…`, `Bearer+…`). */
const SCHEME = "(?:Basic|Bearer|Digest|SDK-HMAC-SHA256|AWS4-HMAC-SHA256)(?:%(?:25)*20|\\+)";
const PARAM = new RegExp(
  `((?:^|[?&#\\s"'(,;]|${SEP_ENCODED})([A-Za-z0-9_.-]+)(?:=|%(?:25)*3D))((?:${SCHEME})?(?:(?!${SEP_ENCODED})[^?&#\\s"'(,;])*)`,
  "gi",
);
/** `Name: value` to the end of the line, also after a `\n` written out as two characters. */
const HEADER =
  /((?:(?<![A-Za-z0-9_\\-])|(?<=\\[rn]))([A-Za-z][A-Za-z0-9_-]*)[ \t]*:[ \t]*)([^\r\n]*)/g;
const BEARER = /(Bearer\s+)\S+/gi;
/** `"name": ` in JSON text, with the quotes escaped any number of times (`\"name\": `). */
const JSON_KEY = /(\\*)"([A-Za-z0-9_.-]{1,64})\1"[ \t]*:[ \t]*/g;

export function redactText(text: string): string {
  return redactValues(redactValues(redactJsonFields(text), HEADER), PARAM).replace(
    BEARER,
    `$1${REDACTED}`,
  );
}

/**
 * Replaces the value (group 3) after each secret name (group 2) that `pattern` finds, its head
 * (group 1) kept. After a name that is no secret, the search goes on right after the head, not
 * after the value: `Error: "… X-Auth-Token: …"` or `?scope=latest?signature=…` must not hide
 * the secret inside a value that is not one.
 */
function redactValues(text: string, pattern: RegExp): string {
  const re = new RegExp(pattern.source, pattern.flags);
  let out = "";
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const [whole, head = "", name = "", value = ""] = m;
    if (isSecretName(name) && value !== "") {
      out += `${text.slice(last, m.index)}${head}${REDACTED}`;
      last = m.index + whole.length;
    } else {
      re.lastIndex = m.index + Math.max(head.length, 1);
    }
  }
  return out + text.slice(last);
}

/** The value of each secret-named field of JSON inside `text`, whatever its type. */
function redactJsonFields(text: string): string {
  let out = "";
  let last = 0;
  for (const m of text.matchAll(JSON_KEY)) {
    const [head, slashes = "", name = ""] = m;
    if (m.index < last || !isSecretName(name)) continue;
    const start = m.index + head.length;
    const end = jsonValueEnd(text, start, slashes.length);
    if (end === start) continue;
    out += `${text.slice(last, start)}${slashes}"${REDACTED}${slashes}"`;
    last = end;
  }
  return out + text.slice(last);
}

/**
 * Where the JSON value at `start` ends: a string (its quotes escaped `slashes` times), an
 * array or object (to its matching bracket, strings not parsed: a bracket inside one ends it
 * early, which redacts the less), or a bare word or number. The end of the text when unclosed.
 */
function jsonValueEnd(text: string, start: number, slashes: number): number {
  const quote = `${"\\".repeat(slashes)}"`;
  if (text.startsWith(quote, start)) {
    for (let i = start + quote.length; i < text.length; i++) {
      if (text[i] !== '"') continue;
      let run = 0;
      while (text[i - 1 - run] === "\\") run++;
      if (run === slashes) return i + 1;
    }
    return text.length;
  }
  const open = text[start];
  if (open === "[" || open === "{") {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c === "[" || c === "{") depth++;
      else if ((c === "]" || c === "}") && --depth === 0) return i + 1;
    }
    return text.length;
  }
  return start + (/^[^,}\]\s\\"]*/.exec(text.slice(start))?.[0].length ?? 0);
}

/** A JSON.stringify replacer that redacts secret-named fields and secrets inside strings. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (isSecretName(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === "string") return redactText(value);
  return value;
}
