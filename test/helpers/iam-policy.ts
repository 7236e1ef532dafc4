import type { S3Call } from "./s3-recorder.js";
import type { Props, Template } from "./serverless-package.js";

/**
 * IAM policy evaluation, as much of it as this project's template uses, for the audit of the
 * deployed shape (every AWS call checked against its caller's role):
 *
 * - Effect Allow / Deny; Action and Resource as a string or a list, with `*` and `?`
 *   wildcards (actions case-insensitive, resources case-sensitive, as IAM matches them);
 * - Condition with StringEquals, StringLike and Bool: operators and keys are ANDed, a key's
 *   values ORed, and a key the request does not have fails its operator (IAM's rule for
 *   these operators without `IfExists`);
 * - explicit Deny wins over any Allow; without an Allow, the request is implicitly denied;
 * - a resource policy (the bucket policy) beside the identity policy, same account: either may
 *   allow, a Deny in either denies.
 *
 * Anything else (NotAction, NotResource, NotPrincipal, another condition operator, a Principal
 * other than "*" in a resource policy) is refused when the policy is read, so that an evaluator
 * that does not understand a statement cannot call it harmless.
 */

export interface Condition {
  readonly operator: "StringEquals" | "StringLike" | "Bool";
  readonly key: string;
  readonly values: readonly string[];
}

export interface Statement {
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions: readonly Condition[];
  /** Where it was read from, e.g. `ApiFunctionRole/api#6`. */
  readonly where: string;
}

/** One permission check: what a call needs, on what, with the request's condition keys. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys by name (`s3:prefix`, `aws:SecureTransport`); absent keys are absent. */
  readonly context?: Readonly<Record<string, string>>;
}

export type Decision =
  | { readonly effect: "Allow"; readonly statement: Statement }
  | { readonly effect: "ExplicitDeny"; readonly statement: Statement }
  | { readonly effect: "ImplicitDeny" };

export type Resolve = (value: unknown, where: string) => string;

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const OPERATORS = new Set(["StringEquals", "StringLike", "Bool"]);

/** The statements of a policy document, intrinsics resolved; unsupported elements throw. */
export function readPolicy(
  document: unknown,
  resolve: Resolve,
  where: string,
  kind: "identity" | "resource" = "identity",
): Statement[] {
  const statements = list((document as { Statement?: unknown } | undefined)?.Statement);
  return statements.map((raw, index) => {
    const at = `${where}#${index}`;
    const s = raw as Props;
    for (const unsupported of ["NotAction", "NotResource", "NotPrincipal"]) {
      if (unsupported in s) throw new Error(`${at}: ${unsupported} is not evaluated here`);
    }
    if (kind === "resource" && s.Principal !== "*") {
      throw new Error(`${at}: only Principal "*" is evaluated in a resource policy`);
    }
    if (s.Effect !== "Allow" && s.Effect !== "Deny") throw new Error(`${at}: Effect ${s.Effect}`);
    const conditions = Object.entries((s.Condition ?? {}) as Record<string, Props>).flatMap(
      ([operator, keys]) => {
        if (!OPERATORS.has(operator)) throw new Error(`${at}: condition ${operator} unsupported`);
        return Object.entries(keys).map(([key, values]) => ({
          operator: operator as Condition["operator"],
          key,
          values: list(values).map((v) => resolve(v, `${at}.Condition`)),
        }));
      },
    );
    return {
      effect: s.Effect,
      actions: list(s.Action).map((a) => resolve(a, `${at}.Action`)),
      resources: list(s.Resource).map((r) => resolve(r, `${at}.Resource`)),
      conditions,
      where: at,
    };
  });
}

/** IAM's wildcard match: `*` any run of characters (`/` and `:` too), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, ignoreCase ? "is" : "s").test(value);
}

function conditionHolds(condition: Condition, context: Readonly<Record<string, string>>): boolean {
  // Condition keys are case-insensitive.
  const found = Object.entries(context).find(
    ([key]) => key.toLowerCase() === condition.key.toLowerCase(),
  );
  if (found === undefined) return false;
  const value = found[1];
  return condition.values.some((expected) => {
    if (condition.operator === "StringLike") return wildcardMatch(expected, value);
    if (condition.operator === "Bool") return value.toLowerCase() === expected.toLowerCase();
    return value === expected;
  });
}

function applies(statement: Statement, request: IamRequest): boolean {
  return (
    statement.actions.some((a) => wildcardMatch(a, request.action, true)) &&
    statement.resources.some((r) => wildcardMatch(r, request.resource)) &&
    statement.conditions.every((c) => conditionHolds(c, request.context ?? {}))
  );
}

/**
 * IAM's decision for one request over the identity policy's statements and any resource
 * policy's (same account): an explicit Deny anywhere wins, else any Allow allows.
 */
export function evaluate(
  request: IamRequest,
  identity: readonly Statement[],
  resource: readonly Statement[] = [],
): Decision {
  const matching = [...identity, ...resource].filter((s) => applies(s, request));
  const deny = matching.find((s) => s.effect === "Deny");
  if (deny !== undefined) return { effect: "ExplicitDeny", statement: deny };
  const allow = matching.find((s) => s.effect === "Allow");
  return allow === undefined ? { effect: "ImplicitDeny" } : { effect: "Allow", statement: allow };
}

/** Managed policies the audit knows: AWSLambdaBasicExecutionRole grants CloudWatch Logs only. */
const LOGS_ONLY = new Set(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]);

/**
 * A role's statements (its inline policies). Its managed policies must be logs-only ones,
 * which grant nothing the audit checks (CloudWatch Logs calls are Lambda's, not recorded).
 */
export function roleStatements(template: Template, roleId: string, resolve: Resolve): Statement[] {
  const role = template.Resources[roleId];
  if (role?.Type !== "AWS::IAM::Role") throw new Error(`${roleId} is not a role of the template`);
  const props = role.Properties ?? {};
  for (const arn of list(props.ManagedPolicyArns)) {
    const resolved = resolve(arn, `${roleId}.ManagedPolicyArns`);
    if (!LOGS_ONLY.has(resolved)) throw new Error(`${roleId}: managed policy ${resolved} unknown`);
  }
  return list(props.Policies).flatMap((policy) => {
    const p = policy as { PolicyName?: string; PolicyDocument?: unknown };
    return readPolicy(p.PolicyDocument, resolve, `${roleId}/${p.PolicyName ?? "?"}`);
  });
}

/** The statements of every bucket policy on the bucket named `bucket`. */
export function bucketPolicyStatements(
  template: Template,
  bucket: string,
  resolve: Resolve,
): Statement[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === "AWS::S3::BucketPolicy")
    .filter(([id, r]) => resolve(r.Properties?.Bucket, `${id}.Bucket`) === bucket)
    .flatMap(([id, r]) => readPolicy(r.Properties?.PolicyDocument, resolve, id, "resource"));
}

/** Subresources that make a request another action than the plain object or bucket one. */
const OTHER_ACTIONS =
  /^(acl|tagging|attributes|legal-hold|retention|torrent|policy|cors|lifecycle|versioning|location|delete|uploads|uploadId|versions|restore|select)$/;

/**
 * The permissions S3 checks for a recorded call (as its documentation lists them per
 * operation), or why it cannot say. In AWS the SDK reaches S3 over HTTPS, so
 * `aws:SecureTransport` is true; the loopback proxy's plain HTTP is this machine's.
 */
export function s3Requests(call: S3Call): IamRequest[] | { unmapped: string } {
  if (call.bucket === "") return { unmapped: "no bucket in the path" };
  const params = new URLSearchParams(call.query);
  const names = [...params.keys()];
  const other = names.filter((n) => OTHER_ACTIONS.test(n));
  const context: Record<string, string> = { "aws:SecureTransport": "true" };
  const object = `arn:aws:s3:::${call.bucket}/${call.key}`;
  const bucket = `arn:aws:s3:::${call.bucket}`;
  if (call.key !== "") {
    // Multipart uploads are PutObject throughout; aborting one is its own action.
    const multipart = other.every((n) => n === "uploads" || n === "uploadId");
    if (call.method === "DELETE" && names.includes("uploadId") && other.length === 1) {
      return [{ action: "s3:AbortMultipartUpload", resource: object, context }];
    }
    if ((call.method === "POST" || call.method === "PUT") && other.length > 0 && multipart) {
      return [{ action: "s3:PutObject", resource: object, context }];
    }
    if (other.length > 0) return { unmapped: `object subresource ${other.join(",")}` };
    const version = names.includes("versionId") ? "Version" : "";
    if (call.method === "GET" || call.method === "HEAD") {
      return [{ action: `s3:GetObject${version}`, resource: object, context }];
    }
    if (call.method === "DELETE") {
      return [{ action: `s3:DeleteObject${version}`, resource: object, context }];
    }
    if (call.method === "PUT") {
      // Conditional writes (If-None-Match / If-Match) are PutObject too. A copy also reads
      // its source.
      const put: IamRequest = { action: "s3:PutObject", resource: object, context };
      const source = call.headers.copySource;
      if (source === undefined) return [put];
      const [path = ""] = decodeURIComponent(source).replace(/^\//, "").split("?");
      return [put, { action: "s3:GetObject", resource: `arn:aws:s3:::${path}`, context }];
    }
    return { unmapped: `${call.method} on an object` };
  }
  if ((call.method === "GET" && other.length === 0) || call.method === "HEAD") {
    // ListObjects(V2), HeadBucket: s3:ListBucket, with s3:prefix when the request has one.
    const prefix = params.get("prefix");
    return [
      {
        action: "s3:ListBucket",
        resource: bucket,
        context: prefix === null ? context : { ...context, "s3:prefix": prefix },
      },
    ];
  }
  return { unmapped: `${call.method} on the bucket with ${other.join(",") || "nothing"}` };
}
