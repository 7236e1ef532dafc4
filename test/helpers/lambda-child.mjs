// One Lambda execution environment: run by test/helpers/lambda-runtime.ts as a plain node
// process (no tsx, no vitest) with exactly the function's environment. It imports the
// packaged handler from LAMBDA_TASK_ROOT once (the cold start), then answers invocations sent
// over IPC one at a time, as Lambda's Node.js runtime does: the handler gets the event and a
// context; a thrown error becomes {errorType, errorMessage}.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const handlerSetting = process.env._HANDLER ?? "";
const dot = handlerSetting.lastIndexOf(".");
const modulePath = join(process.env.LAMBDA_TASK_ROOT ?? ".", `${handlerSetting.slice(0, dot)}.mjs`);
const exportName = handlerSetting.slice(dot + 1);

const loaded = import(pathToFileURL(modulePath).href).then((module) => {
  const handler = module[exportName];
  if (typeof handler !== "function") throw new Error(`${handlerSetting} is not a function`);
  return handler;
});

/** A context like the runtime's, with the remaining time counted down from `timeoutMs`. */
function context(timeoutMs) {
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "function";
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "512",
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${name}`,
    logStreamName: `2026/12/01/[$LATEST]${requestId.replaceAll("-", "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

let queue = Promise.resolve();
process.on("message", (message) => {
  const { id, event, timeoutMs } = message;
  queue = queue.then(async () => {
    try {
      const handler = await loaded;
      const result = await handler(event, context(timeoutMs));
      process.send?.({ id, ok: true, result: result ?? null });
    } catch (error) {
      const errorType = error instanceof Error ? error.name : "Error";
      const errorMessage = error instanceof Error ? error.message : String(error);
      // The runtime logs what the function threw, as Lambda does in CloudWatch.
      process.stderr.write(`${JSON.stringify({ errorType, errorMessage })}\n`);
      process.send?.({ id, ok: false, errorType, errorMessage });
    }
  });
});
// Ready once the module is loaded (Lambda's init phase); an init error fails each invocation.
loaded.then(
  () => process.send?.({ ready: true, version: process.version }),
  () => process.send?.({ ready: true, version: process.version }),
);
