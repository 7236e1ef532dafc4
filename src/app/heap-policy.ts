import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets the heap grow past what survived the last full collection before it collects
 * again: 50% here, where V8's own choice for a busy process is up to 4×. A report run keeps
 * little (about 20 MB live at a million versions scanned: the versions of the report and the
 * set of ids) but allocates fast (every page parsed), so by default its heap swells to four
 * times that with garbage. Measured on a month report over 1 M versions: 217–247 MB peak RSS
 * by default, 187–199 MB with this (the target is 200 MB), for some 10% more CPU time at zero
 * latency and none measurable behind a network (see README, Performance › Memory). Set here
 * because V8 refuses the flag in NODE_OPTIONS; the bench shows that it takes effect.
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Applies the policy to this process. Called first by the report command and the report
 * function, the processes that scan; the API functions keep V8's defaults.
 */
export function keepHeapFlat(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
