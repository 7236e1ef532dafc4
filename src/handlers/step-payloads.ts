import * as z from "zod";
import { runPlan } from "../app/steps.js";

/**
 * What the state machine hands each step and takes from it (issue 21), parsed at each step's
 * edge: the definition in serverless.yml shapes them (Parameters, ItemSelector, ResultPath).
 */

/** Plan's input: the execution's input and name. */
export const planInput = z.strictObject({
  event: z.unknown(),
  run_id: z.string(),
});

/** One Map iteration: the plan and the index of the source to scan. */
export const scanInput = z.strictObject({ plan: runPlan, index: z.number().int().nonnegative() });

/** What one ScanSource hands to Publish: where its partial is, and its scan's figures. */
export const scanOutput = z.strictObject({
  index: z.number().int().nonnegative(),
  name: z.string(),
  partial: z.strictObject({
    key: z.string(),
    bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  complete: z.boolean(),
  versions_scanned: z.number().int().nonnegative(),
  records_read: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  total_count_first: z.number().int().nonnegative(),
  total_count_last: z.number().int().nonnegative(),
});
export type ScanOutput = z.infer<typeof scanOutput>;

/** Publish's input: the plan (the Map's input) with the Map's results under `scans`. */
export const publishInput = runPlan.extend({ scans: z.array(scanOutput) });
