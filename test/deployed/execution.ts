import type { InvokeResult } from "../helpers/lambda-runtime.js";

/**
 * Runs a state machine definition the way Step Functions would, for the subset the stack's
 * definition uses and nothing more: Task states that call a Lambda function by its ARN
 * (`Parameters` with `.$` paths), Map states (`ItemsPath`, `ItemSelector`, `ItemProcessor`,
 * `MaxConcurrency`, `ResultPath`), `Retry` matched by error name (without the waits), `Next`
 * and `End`. Anything else throws, so a definition that grows past it cannot pass unnoticed.
 * It stands in until the harness's aws-local-stepfunctions runner (test/helpers/state-machine.ts,
 * another branch) replaces it here.
 */

type Json = Record<string, unknown>;

/** A function behind a Task's Resource: what Lambda answered. */
export type Invoke = (functionArn: string, payload: unknown) => Promise<InvokeResult>;

export interface TaskCall {
  readonly state: string;
  readonly resource: string;
  readonly input: unknown;
  /** The function's error type when it failed. */
  readonly error?: string;
}

export type ExecutionOutcome =
  | { readonly status: "SUCCEEDED"; readonly output: unknown; readonly calls: TaskCall[] }
  | {
      readonly status: "FAILED";
      readonly error: string;
      readonly cause: string;
      readonly calls: TaskCall[];
    };

class StateFailure extends Error {
  constructor(
    readonly error: string,
    readonly detail: string,
  ) {
    super(`${error}: ${detail}`);
  }
}

interface Context {
  readonly executionName: string;
  readonly invoke: Invoke;
  readonly calls: TaskCall[];
  readonly item?: { readonly Index: number; readonly Value: unknown };
}

const KEYS: Record<string, readonly string[]> = {
  Task: ["Type", "Resource", "Parameters", "TimeoutSeconds", "Retry", "Next", "End", "Comment"],
  Map: ["Type", "ItemsPath", "ItemSelector", "MaxConcurrency", "ItemProcessor"].concat([
    "ResultPath",
    "Next",
    "End",
    "Comment",
  ]),
};

function path(expression: string, input: unknown, ctx: Context): unknown {
  const [root, ...rest] = expression.split(".");
  let value: unknown;
  if (root === "$") value = input;
  else if (root === "$$" && rest[0] === "Execution" && rest[1] === "Name") {
    return ctx.executionName;
  } else if (root === "$$" && rest[0] === "Map" && rest[1] === "Item" && ctx.item) {
    value = ctx.item;
    rest.splice(0, 2);
  } else throw new Error(`path ${expression} is beyond this runner`);
  for (const key of rest) {
    if (typeof value !== "object" || value === null || !(key in value)) {
      throw new StateFailure("States.Runtime", `path ${expression} does not point to a value`);
    }
    value = (value as Json)[key];
  }
  return value;
}

/** A payload template (Parameters, ItemSelector): `key.$` fields are paths. */
function fill(template: Json, input: unknown, ctx: Context): Json {
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) =>
      key.endsWith(".$") ? [key.slice(0, -2), path(String(value), input, ctx)] : [key, value],
    ),
  );
}

function withResult(input: unknown, resultPath: unknown, result: unknown): unknown {
  if (resultPath === undefined || resultPath === "$") return result;
  const match = /^\$\.([A-Za-z_]+)$/.exec(String(resultPath));
  if (!match?.[1]) throw new Error(`ResultPath ${String(resultPath)} is beyond this runner`);
  return { ...(input as Json), [match[1]]: result };
}

async function task(name: string, state: Json, input: unknown, ctx: Context): Promise<unknown> {
  const payload = state.Parameters ? fill(state.Parameters as Json, input, ctx) : input;
  const resource = String(state.Resource);
  const retriers = (state.Retry ?? []) as { ErrorEquals: string[]; MaxAttempts?: number }[];
  const used = retriers.map(() => 0);
  for (;;) {
    const result = await ctx.invoke(resource, payload);
    const error = result.ok ? undefined : (result.errorType ?? "Error");
    ctx.calls.push({ state: name, resource, input: payload, ...(error ? { error } : {}) });
    if (error === undefined) return result.result;
    const at = retriers.findIndex(
      (r) => r.ErrorEquals.includes(error) || r.ErrorEquals.includes("States.ALL"),
    );
    if (at < 0 || (used[at] ?? 0) >= (retriers[at]?.MaxAttempts ?? 3)) {
      throw new StateFailure(error, result.errorMessage ?? "");
    }
    used[at] = (used[at] ?? 0) + 1;
  }
}

async function map(state: Json, input: unknown, ctx: Context): Promise<unknown[]> {
  const items = path(String(state.ItemsPath ?? "$"), input, ctx);
  if (!Array.isArray(items)) throw new StateFailure("States.Runtime", "ItemsPath is no array");
  const results: unknown[] = new Array(items.length);
  const limit = Number(state.MaxConcurrency ?? 0) || items.length;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const Index = next++;
      const item = { Index, Value: items[Index] };
      const selected = state.ItemSelector
        ? fill(state.ItemSelector as Json, input, { ...ctx, item })
        : items[Index];
      results[Index] = await run(state.ItemProcessor as Json, selected, ctx);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function run(machine: Json, input: unknown, ctx: Context): Promise<unknown> {
  const states = machine.States as Record<string, Json>;
  let name = String(machine.StartAt);
  let value = input;
  for (;;) {
    const state = states[name];
    if (state === undefined) throw new Error(`no state ${name}`);
    const type = String(state.Type);
    const unknown = Object.keys(state).filter((k) => !(KEYS[type] ?? []).includes(k));
    if (unknown.length > 0) throw new Error(`${name}: ${type} ${unknown} is beyond this runner`);
    value =
      type === "Task"
        ? await task(name, state, value, ctx)
        : withResult(value, state.ResultPath, await map(state, value, ctx));
    if (state.End === true) return value;
    name = String(state.Next);
  }
}

/** One execution of `definition` named `executionName`, with `input`. */
export async function runExecution(
  definition: Json,
  input: unknown,
  opts: { executionName: string; invoke: Invoke },
): Promise<ExecutionOutcome> {
  const calls: TaskCall[] = [];
  try {
    const output = await run(definition, input, { ...opts, calls });
    return { status: "SUCCEEDED", output, calls };
  } catch (error) {
    if (!(error instanceof StateFailure)) throw error;
    return { status: "FAILED", error: error.error, cause: error.detail, calls };
  }
}
