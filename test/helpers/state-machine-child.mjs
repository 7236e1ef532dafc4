// One state machine execution: run by test/helpers/state-machine.ts on Node 22 (the library,
// aws-local-stepfunctions, needs it) as a plain node process. It gets one `run` message, runs
// the definition with every Task state overridden by a function that asks the parent over IPC
// (`task` → `taskResult`), sends each event of the execution's log as it happens, then the
// outcome (`done`), and exits.
import { ExecutionError, ExecutionTimeoutError, StateMachine } from "aws-local-stepfunctions";

let nextId = 0;
const pending = new Map();

/** A Task's local handler: the parent resolves it; a failure keeps its error name. */
function askParent(state) {
  return (input) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      process.send?.({ type: "task", id, state, input });
    });
}

function answer(message) {
  const waiting = pending.get(message.id);
  pending.delete(message.id);
  if (waiting === undefined) return;
  if (message.ok) {
    waiting.resolve(message.output);
    return;
  }
  // The library matches Retry and Catch on error.name and reports error.message as the Cause.
  const error = new Error(message.cause);
  error.name = message.error;
  waiting.reject(error);
}

/** The execution's outcome as Step Functions names it. */
function outcome(error) {
  if (error instanceof ExecutionTimeoutError) {
    return { status: "TIMED_OUT", error: "States.Timeout", cause: error.message };
  }
  const failure = error instanceof ExecutionError ? error.cause : error;
  const name = failure instanceof Error ? failure.name : "Error";
  const cause = failure instanceof Error ? failure.message : String(failure);
  return { status: "FAILED", error: name, cause };
}

function send(message) {
  return new Promise((resolve) => process.send?.(message, () => resolve()));
}

async function run(message) {
  const local = Object.fromEntries(message.taskStates.map((state) => [state, askParent(state)]));
  const overrides = { taskResourceLocalHandlers: local };
  if (message.retryIntervalMs !== null) {
    overrides.retryIntervalOverrides = Object.fromEntries(
      message.retryStates.map((state) => [state, message.retryIntervalMs]),
    );
  }
  if (message.waitMs !== null) {
    overrides.waitTimeOverrides = Object.fromEntries(
      message.waitStates.map((state) => [state, message.waitMs]),
    );
  }
  const constructing = performance.now();
  let machine;
  try {
    machine = new StateMachine(message.definition, { validationOptions: message.validation });
  } catch (error) {
    await send({
      type: "invalid",
      message: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  const started = performance.now();
  const validateMs = started - constructing;
  const execution = machine.run(message.input, { overrides, context: message.context });
  const logged = (async () => {
    for await (const event of execution.eventLogs) await send({ type: "event", event });
  })();
  let result;
  try {
    result = { status: "SUCCEEDED", output: await execution.result };
  } catch (error) {
    result = outcome(error);
  }
  await logged;
  await send({ type: "done", ...result, validateMs, runMs: performance.now() - started });
}

process.on("message", (message) => {
  if (message.type === "taskResult") answer(message);
  else if (message.type === "run") {
    run(message).then(
      () => process.disconnect(),
      (error) => {
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      },
    );
  }
});
process.send?.({ type: "ready", version: process.version });
