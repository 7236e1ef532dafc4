import { loadBaseConfig } from "../app/config.js";
import { DAY, MONTH, type Period } from "../report/period.js";
import { ConfigError } from "../shared/errors.js";
import { openStore } from "../storage/open-store.js";
import { verifyDate } from "../storage/verify.js";
import { type CliIo, fail, parseOptions } from "./main.js";

/**
 * `npm run verify -- --date D [--storage URL]`: checks a day's files against its manifest.
 * Exit codes: 0 every file matches and the scan was complete, 1 something does not match
 * (or there is no manifest), 2 bad arguments.
 */
const USAGE = "usage: npm run verify -- --date YYYY-MM-DD | --month YYYY-MM [--storage URL]";

export async function runVerifyCli(argv: readonly string[], io: CliIo): Promise<number> {
  let date: string;
  let period: Period;
  let storage: string;
  try {
    const values = parseOptions(
      argv,
      { date: { type: "string" }, month: { type: "string" }, storage: { type: "string" } },
      USAGE,
    );
    if (values.month !== undefined) {
      if (values.date !== undefined) throw new ConfigError("give --date or --month, not both");
      if (!MONTH.isLabel(values.month)) throw new ConfigError("--month must be YYYY-MM");
      date = values.month;
      period = MONTH;
    } else {
      if (values.date === undefined || !DAY.isLabel(values.date)) {
        throw new ConfigError(
          "--date YYYY-MM-DD (a date that exists) or --month YYYY-MM is required",
        );
      }
      date = values.date;
      period = DAY;
    }
    storage = loadBaseConfig(io.env, { storage: values.storage }).storage;
  } catch (error) {
    return fail(io, error, { usage: USAGE });
  }
  try {
    const result = await verifyDate(openStore(storage, { cwd: io.cwd }), date, period);
    if (result === undefined) {
      io.stderr.write(`error: there is no manifest for ${date} in ${storage}\n`);
      return 1;
    }
    for (const f of result.files) {
      io.stdout.write(
        `${f.ok ? "ok      " : "MISMATCH"} ${f.key}${f.problem ? `: ${f.problem}` : ""}\n`,
      );
    }
    if (!result.complete)
      io.stdout.write("INCOMPLETE the scan read fewer versions than total_count\n");
    io.stdout.write(`${date}: ${result.ok ? "verified" : "NOT verified"}\n`);
    return result.ok ? 0 : 1;
  } catch (error) {
    return fail(io, error);
  }
}
