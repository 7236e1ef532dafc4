import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { keepHeapFlat } from "../app/heap-policy.js";
import { scanPlannedSource } from "../app/steps.js";
import { writePartial } from "../storage/partials.js";
import { fetchSecret, log, logger, report } from "./runtime.js";
import { stepError } from "./step-errors.js";
import { type ScanOutput, scanInput } from "./step-payloads.js";

/**
 * ScanSource, one iteration of the state machine's Map (issue 21): one planned source's scan,
 * written as a partial under the run (storage/partials.ts); the state carries only where it
 * is, its size, SHA-256 and the scan's completeness. A transient failure is thrown as
 * StepTransientError, which the Map retries for this source alone.
 */

keepHeapFlat();

/** Time kept back from the Lambda timeout to write the partial. */
const WRITE_MARGIN_MS = 60_000;

async function scanSource(input: unknown, remainingMs: number): Promise<ScanOutput> {
  const parsed = scanInput.safeParse(input);
  if (!parsed.success) throw stepError("ScanSource's input", parsed.error);
  const { plan, index } = parsed.data;
  const name = plan.sources[index]?.name ?? `source ${index}`;
  try {
    const config = report.config();
    const deadline = Date.now() + Math.max(remainingMs - WRITE_MARGIN_MS, remainingMs / 2);
    const scan = await scanPlannedSource(config, plan, index, { log, fetchSecret, deadline });
    const partial = await writePartial(report.store(), plan.run_id, index, name, scan);
    const output: ScanOutput = {
      index,
      name,
      partial,
      complete: scan.recordsRead >= Math.min(scan.totalCountFirst, scan.totalCountLast),
      versions_scanned: scan.versionsScanned,
      records_read: scan.recordsRead,
      pages: scan.pages,
      total_count_first: scan.totalCountFirst,
      total_count_last: scan.totalCountLast,
    };
    log.info("source scanned", { runId: plan.run_id, ...output });
    return output;
  } catch (error) {
    throw stepError(name, error);
  }
}

export const handler = middy<unknown, ScanOutput, Error, Context>()
  .use(injectLambdaContext(logger))
  .handler((input, context) =>
    scanSource(
      input,
      typeof context.getRemainingTimeInMillis === "function"
        ? context.getRemainingTimeInMillis()
        : 900_000,
    ),
  );
