import {
  bucketPolicyStatements,
  type Decision,
  evaluate,
  type IamRequest,
  roleStatements,
  type Statement,
  s3Requests,
  wildcardMatch,
} from "../helpers/iam-policy.js";
import type { Template } from "../helpers/serverless-package.js";
import { ACCOUNT, logicalId, REGION, type Stack } from "./stack.js";

/**
 * The IAM audit of the deployed shape: every AWS call the stack's functions made (S3 through
 * the recording proxy, Secrets Manager, Step Functions and SNS from their stand-ins' logs), and the
 * state machine's own (each Task's lambda:InvokeFunction, by its `RoleArn`) and the schedule's
 * (StartExecution, by its target's `RoleArn`), each held against its caller's role in the
 * compiled template. CloudWatch Logs calls are Lambda's own and not audited.
 */

export interface AuditedCall {
  /** A function's logical id, or the state machine's / the schedule's. */
  readonly caller: string;
  /** The logical id of the role the call was made with. */
  readonly role: string;
  readonly request: IamRequest;
  /** The call as recorded, for messages: `GET /bucket/key?query → 200`. */
  readonly seen: string;
  readonly decision: Decision;
}

export interface Audit {
  readonly calls: readonly AuditedCall[];
  /** Calls that could not be held against a role: an unknown signer, an unmapped request. */
  readonly unattributed: readonly string[];
  /**
   * GetObject/HeadObject answered 404 to a role that may not s3:ListBucket the bucket at all:
   * S3 answers such a caller 403 AccessDenied instead (it may not learn the key is missing).
   */
  readonly missingKeyWithoutList: readonly AuditedCall[];
}

function onlyOf(template: Template, type: string): [string, Record<string, unknown>] {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const [first] = found;
  if (first === undefined || found.length !== 1) throw new Error(`expected one ${type}`);
  return [first[0], first[1].Properties ?? {}];
}

export function auditStack(stack: Stack): Audit {
  const { template } = stack;
  const roles = new Map<string, Statement[]>();
  const statementsOf = (role: string) => {
    let statements = roles.get(role);
    if (statements === undefined) {
      statements = roleStatements(template, role, stack.resolve);
      roles.set(role, statements);
    }
    return statements;
  };
  const bucketPolicy = bucketPolicyStatements(template, stack.bucket, stack.resolve);
  const byKey = new Map([...stack.functions.values()].map((f) => [f.accessKeyId, f]));
  const calls: AuditedCall[] = [];
  const unattributed: string[] = [];
  const missingKeyWithoutList: AuditedCall[] = [];
  const audit = (
    caller: string,
    role: string,
    request: IamRequest,
    seen: string,
    resourcePolicy: readonly Statement[] = [],
  ) => {
    const decision = evaluate(request, statementsOf(role), resourcePolicy);
    const call = { caller, role, request, seen, decision };
    calls.push(call);
    return call;
  };

  for (const s3Call of stack.s3Calls) {
    const path = `/${s3Call.bucket}/${s3Call.key}${s3Call.query ? `?${s3Call.query}` : ""}`;
    const seen = `${s3Call.presigned ? "presigned " : ""}${s3Call.method} ${path} → ${s3Call.status}`;
    const fn = byKey.get(s3Call.accessKeyId ?? "");
    const requests = s3Requests(s3Call);
    if (fn === undefined || "unmapped" in requests || s3Call.bucket !== stack.bucket) {
      const why = fn === undefined ? `signed by ${s3Call.accessKeyId}` : requests;
      unattributed.push(`${seen}: ${JSON.stringify(why)}`);
      continue;
    }
    for (const request of requests) {
      const call = audit(fn.logicalId, fn.role, request, seen, bucketPolicy);
      const read = request.action === "s3:GetObject" && s3Call.status === 404;
      const list = { action: "s3:ListBucket", resource: `arn:aws:s3:::${s3Call.bucket}` };
      // With or without the key as s3:prefix: a role that may list nothing of the bucket.
      const mayList = [{}, { "s3:prefix": s3Call.key }].some(
        (context) =>
          evaluate({ ...list, context }, statementsOf(fn.role), bucketPolicy).effect === "Allow",
      );
      if (read && !mayList) missingKeyWithoutList.push(call);
    }
  }

  for (const r of stack.secrets.requests) {
    const fn = byKey.get(r.accessKeyId);
    const arn =
      stack.secrets.arnOf(r.secretId) ??
      (r.secretId.startsWith("arn:")
        ? r.secretId
        : `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${r.secretId}`);
    const seen = `GetSecretValue ${r.secretId}`;
    if (fn === undefined) unattributed.push(`${seen}: signed by ${r.accessKeyId}`);
    else
      audit(
        fn.logicalId,
        fn.role,
        { action: "secretsmanager:GetSecretValue", resource: arn },
        seen,
      );
  }

  for (const r of stack.stepFunctions.requests) {
    const fn = byKey.get(r.accessKeyId);
    const seen = `StartExecution ${r.stateMachineArn} ${r.name ?? ""}`.trim();
    const request = { action: "states:StartExecution", resource: r.stateMachineArn };
    if (fn === undefined) unattributed.push(`${seen}: signed by ${r.accessKeyId}`);
    else audit(fn.logicalId, fn.role, request, seen);
  }

  for (const r of stack.sns.requests) {
    const fn = byKey.get(r.accessKeyId);
    const seen = `${r.action} ${r.topicArn ?? "(no topic)"}`;
    if (fn === undefined || r.action !== "Publish" || r.topicArn === undefined) {
      unattributed.push(`${seen}: signed by ${r.accessKeyId}`);
    } else audit(fn.logicalId, fn.role, { action: "sns:Publish", resource: r.topicArn }, seen);
  }

  const [machineId, machine] = onlyOf(template, "AWS::StepFunctions::StateMachine");
  const machineRole = logicalId(machine.RoleArn);
  if (machineRole === undefined) throw new Error(`${machineId} has no role of the template`);
  for (const { state, functionArn } of stack.taskInvocations) {
    const request = { action: "lambda:InvokeFunction", resource: functionArn };
    audit(machineId, machineRole, request, `Task ${state} → ${functionArn}`);
  }

  // EventBridge Scheduler's start of the run: the schedule's Input (`source: "schedule"`).
  const [scheduleId, schedule] = onlyOf(template, "AWS::Scheduler::Schedule");
  const scheduleTarget = schedule.Target as { Arn: unknown; RoleArn: unknown };
  const schedulerRole = logicalId(scheduleTarget.RoleArn);
  if (schedulerRole === undefined) throw new Error(`${scheduleId} has no role of the template`);
  for (const start of stack.directStarts) {
    if ((start.input as { source?: unknown } | null)?.source !== "schedule") continue;
    const resource = stack.resolve(scheduleTarget.Arn, `${scheduleId}.Target.Arn`);
    const request = { action: "states:StartExecution", resource };
    audit(scheduleId, schedulerRole, request, `scheduled StartExecution ${start.name}`);
  }
  return { calls, unattributed, missingKeyWithoutList };
}

/** `role caller action resource (decision, statement)`: one line per call, for messages. */
export function describeCall(call: AuditedCall): string {
  const { decision, request } = call;
  const context = request.context?.["s3:prefix"];
  const by =
    decision.effect === "ImplicitDeny" ? "no statement allows it" : decision.statement.where;
  return `${call.role} (${call.caller}) ${request.action} ${request.resource}${
    context === undefined ? "" : ` s3:prefix=${JSON.stringify(context)}`
  }: ${decision.effect} by ${by} [${call.seen}]`;
}

/** Counts of the calls by role, then by action: `{ ApiFunctionRole: { "s3:GetObject": 12 } }`. */
export function countsByRole(audit: Audit): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const call of audit.calls) {
    const role = counts[call.role] ?? {};
    role[call.request.action] = (role[call.request.action] ?? 0) + 1;
    counts[call.role] = role;
  }
  return counts;
}

/** The calls of `role` for `action` on a resource matching `pattern` (IAM wildcards in all). */
export function callsFor(audit: Audit, role: string, action: string, pattern = "*") {
  return audit.calls.filter(
    (c) =>
      wildcardMatch(role, c.role) &&
      wildcardMatch(action, c.request.action, true) &&
      wildcardMatch(pattern, c.request.resource),
  );
}
