import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { it } from "vitest";

/**
 * Debian's Chromium for the tests that draw the page (or $CHROMIUM, where it lives elsewhere).
 * On a developer's machine without it those tests do not run; under CI they must run, so
 * there a missing Chromium is a failed test, not a skipped one.
 */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Whether this is a CI run (CI=true, as CI services and .ci/run set it). */
function underCi(): boolean {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "false" && ci !== "0";
}

/**
 * Whether Chromium is here, for `describe.runIf`/`it.runIf`. Under CI without it, registers a
 * failing test in the calling suite that says what is missing.
 */
export function chromiumPresent(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (underCi()) {
    it("has Chromium to draw the page with, as CI requires", () => {
      throw new Error(
        `CI is set but there is no Chromium at ${CHROMIUM}: install Debian's chromium ` +
          "(apt-get install chromium) or set CHROMIUM to its path",
      );
    });
  }
  return false;
}

/**
 * Headless Chromium as this machine needs it: no sandbox (root), no GPU, and none of its
 * background connections, which the closed network here refuses many at a time.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
