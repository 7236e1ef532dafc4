import * as z from "zod";
import { ConfigError } from "../shared/errors.js";

/**
 * The price table of report.md §9: `{"currency": "EUR", "flavors": {"<flavor_code>":
 * {"per_hour": n, "per_gpu_hour": n, "per_npu_hour": n}}}`, each price optional. Parsed here
 * (pure); loading it from a file or S3 is the caller's business.
 */

const price = z.number().finite().nonnegative();
const flavorPrice = z
  .object({
    per_hour: price.optional(),
    per_gpu_hour: price.optional(),
    per_npu_hour: price.optional(),
  })
  .strict();
const tableSchema = z
  .object({
    currency: z.string().regex(/^[A-Z]{3}$/, "must be a three-letter ISO 4217 code such as EUR"),
    flavors: z.record(z.string().min(1), flavorPrice),
  })
  .strict();

export interface FlavorPrice {
  readonly per_hour?: number | undefined;
  readonly per_gpu_hour?: number | undefined;
  readonly per_npu_hour?: number | undefined;
}

export interface PriceTable {
  readonly currency: string;
  readonly flavors: ReadonlyMap<string, FlavorPrice>;
}

/** Where in the table an issue is, as a reader would write it: flavors["p3.2xlarge"].per_hour */
function where(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) =>
      i === 0
        ? String(p)
        : typeof p === "number"
          ? `[${p}]`
          : i === 1 && path[0] === "flavors"
            ? `[${JSON.stringify(p)}]`
            : `.${String(p)}`,
    )
    .join("");
}

export function parsePriceTable(text: string, source: string): PriceTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`PRICE_TABLE ${source} is not valid JSON`);
  }
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const isPrice = String(path[path.length - 1] ?? "").startsWith("per_");
    let problem: string;
    if (path.length === 0 && issue?.code !== "unrecognized_keys") {
      problem = "the table must be a JSON object with currency and flavors";
    } else if (issue?.code === "unrecognized_keys") {
      problem = `${path.length === 0 ? "the table" : where(path)} has an unknown field ${JSON.stringify(issue.keys[0])}`;
    } else if (isPrice) {
      problem = `${where(path)} must be a non-negative number`;
    } else if (issue?.code === "invalid_type") {
      problem = `${where(path)} is missing or of the wrong type`;
    } else {
      problem = `${where(path)} ${issue?.message ?? "is invalid"}`;
    }
    throw new ConfigError(`PRICE_TABLE ${source}: ${problem}`);
  }
  return { currency: parsed.data.currency, flavors: new Map(Object.entries(parsed.data.flavors)) };
}

/** The cost of some hours of one flavor; `undefined` when the flavor has no price. */
export function costOf(
  table: PriceTable,
  flavor: string | null,
  hours: { run: number; gpu: number; npu: number },
): number | undefined {
  const p = flavor === null ? undefined : table.flavors.get(flavor);
  if (p === undefined) return undefined;
  return (
    hours.run * (p.per_hour ?? 0) +
    hours.gpu * (p.per_gpu_hour ?? 0) +
    hours.npu * (p.per_npu_hour ?? 0)
  );
}
