import { describe, expect, it } from "vitest";
import { readCsv } from "../helpers/csv.js";

/** The strict reader the renderers' tests read their CSV back with (test/helpers/csv.ts). */
describe("readCsv", () => {
  it("reads a quoted cell holding a comma, a doubled quote and a line break", () => {
    expect(readCsv('name,n\r\n"a, ""b""\r\nc\nd",1\r\n,\r\n')).toEqual([
      ["name", "n"],
      ['a, "b"\r\nc\nd', "1"],
      ["", ""],
    ]);
  });

  it.each([
    ["an unterminated quote", 'name,n\r\n"a,1\r\n'],
    ["a bare LF ending a row", "name,n\r\na,1\nb,2\r\n"],
    ["a bare LF ending the last row", "name,n\r\na,1\n"],
    ["a bare CR in an unquoted cell", "name,n\r\na\rb,1\r\n"],
    ["no CRLF after the last row", "name,n\r\na,1"],
    ["a byte-order mark", "\uFEFFname,n\r\na,1\r\n"],
    ["a quote inside an unquoted cell", 'name,n\r\na"b,1\r\n'],
    ["text after a closing quote", 'name,n\r\n"a"b,1\r\n'],
    ["a row shorter than the header", "name,n\r\na\r\n"],
    ["no header row", ""],
  ])("rejects %s", (_, text) => {
    expect(() => readCsv(text)).toThrow();
  });
});
