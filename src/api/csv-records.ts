/**
 * Reading back the service's own CSV files (report.md §5: RFC 4180, CRLF after every row, a
 * header first) to serve a source's rows of them: each record as its cells and as the exact
 * text it was written with, so that the rows served are the stored bytes. Only what the
 * service writes is taken; anything else (a bare line break, a quote inside an unquoted cell,
 * a last row without CRLF) is a file that is not one of ours, and `CsvFileError` says where.
 */

export interface CsvRecord {
  /** The cells, unquoted. */
  readonly cells: readonly string[];
  /** The record as it is in the file, its CRLF included. */
  readonly text: string;
}

export class CsvFileError extends Error {
  override readonly name = "CsvFileError";
}

/** The cell starting at `at` (a quoted one: its quotes undoubled), and where it ends. */
function readCell(text: string, at: number): { value: string; end: number } {
  if (text[at] !== '"') {
    let end = at;
    while (end < text.length && text[end] !== "," && text[end] !== "\r") {
      if (text[end] === '"' || text[end] === "\n") {
        throw new CsvFileError(`a quote or line break in an unquoted cell at offset ${end}`);
      }
      end++;
    }
    return { value: text.slice(at, end), end };
  }
  let value = "";
  let from = at + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) throw new CsvFileError(`an unterminated quote from offset ${at}`);
    value += text.slice(from, quote);
    if (text[quote + 1] !== '"') return { value, end: quote + 1 };
    value += '"';
    from = quote + 2;
  }
}

/** Every record of `text`, the header first, in order. */
export function* csvRecords(text: string): Generator<CsvRecord> {
  let at = 0;
  while (at < text.length) {
    const start = at;
    const cells: string[] = [];
    for (;;) {
      const cell = readCell(text, at);
      cells.push(cell.value);
      at = cell.end;
      if (text[at] === ",") {
        at++;
        continue;
      }
      if (text.startsWith("\r\n", at)) {
        at += 2;
        break;
      }
      throw new CsvFileError(`a record that does not end with CRLF at offset ${at}`);
    }
    yield { cells, text: text.slice(start, at) };
  }
}

/**
 * The header and the records whose cell in `column` (by header name) is `value`. A file
 * without that column is not one of ours.
 */
export function recordsWhere(
  text: string,
  column: string,
  value: string,
): { header: CsvRecord; rows: CsvRecord[] } {
  const records = csvRecords(text);
  const header = records.next().value;
  if (header === undefined) throw new CsvFileError("no header row");
  const index = header.cells.indexOf(column);
  if (index === -1) throw new CsvFileError(`no column ${column}`);
  const rows: CsvRecord[] = [];
  for (const record of records) {
    if (record.cells.length !== header.cells.length) {
      throw new CsvFileError(
        `a record of ${record.cells.length} cells, not ${header.cells.length}`,
      );
    }
    if (record.cells[index] === value) rows.push(record);
  }
  return { header, rows };
}
