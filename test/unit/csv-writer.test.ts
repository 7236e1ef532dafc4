import { stringify } from "csv-stringify/sync";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Cell, csvField, csvRecord } from "../../src/report/render-csv.js";
import { readCsv } from "../helpers/csv.js";

/**
 * The CSV writer is our own few lines (see render-csv.ts for why); csv-stringify, which wrote
 * the files before, is its oracle here, and csv-parse reads its output back.
 */
const ORACLE = { record_delimiter: "\r\n", eof: true, quoted_match: /[\r\n]/ } as const;
const cell: fc.Arbitrary<Cell> = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', ",", "\r", "\n", " ", "a", "'", "=", "é", "\t") }),
  fc.string({ unit: "binary" }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

describe("the CSV writer", () => {
  it("writes the same bytes as csv-stringify for any record", () => {
    fc.assert(
      fc.property(fc.array(cell, { minLength: 1, maxLength: 6 }), (cells) => {
        expect(csvRecord(cells)).toBe(stringify([cells], ORACLE));
      }),
      { numRuns: 2_000 },
    );
  });

  it("reads back, through csv-parse, to the cells it was given", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
        (rows) => {
          const text = ["a,b,c", ...rows.map((r) => csvRecord(r).slice(0, -2))].join("\r\n");
          expect(readCsv(`${text}\r\n`).slice(1)).toEqual(rows.map((r) => r.map(String)));
        },
      ),
    );
  });

  it.each([
    ["plain", "plain"],
    ["", ""],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["line\nbreak", '"line\nbreak"'],
    ["lone\rcr", '"lone\rcr"'],
    [42, "42"],
    [0.5, "0.5"],
  ])("writes %j as %j", (input, output) => {
    expect(csvField(input)).toBe(output);
  });
});
