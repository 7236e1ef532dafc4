import { type InfoField, parse } from "csv-parse/sync";

/**
 * Reads back a CSV file as report.md §5 requires it to be written: UTF-8 without a byte-order
 * mark, comma-separated, `\r\n` after every row (the last included), a header row first and
 * RFC 4180 quoting. Throws for anything else; returns every row, the header included.
 *
 * csv-parse does the reading and rejects bad quoting, text after a closing quote and rows of
 * another length than the header. What it cannot reject by an option is checked here: a
 * byte-order mark (`bom: false` keeps one as text), a last row without `\r\n` (it accepts
 * either), and a bare `\r` or `\n` outside quotes (with `record_delimiter: "\r\n"` it keeps
 * one as text), which the `cast` hook rejects from csv-parse's own knowledge of the quoting.
 */
export function readCsv(text: string): string[][] {
  if (text.startsWith("\uFEFF")) throw new Error("CSV starts with a byte-order mark");
  if (!text.endsWith("\r\n")) throw new Error("CSV does not end with \\r\\n after its last row");
  return parse(text, {
    delimiter: ",",
    quote: '"',
    escape: '"',
    record_delimiter: "\r\n",
    bom: false,
    relax_quotes: false,
    relax_column_count: false,
    skip_empty_lines: false,
    skip_records_with_error: false,
    cast: unquotedWithoutLineBreak,
  }) as string[][];
}

function unquotedWithoutLineBreak(value: string, context: InfoField): string {
  if (!context.quoting && /[\r\n]/.test(value))
    throw new Error(
      `bare line break in unquoted cell ${JSON.stringify(value)}, line ${context.lines}`,
    );
  return value;
}
