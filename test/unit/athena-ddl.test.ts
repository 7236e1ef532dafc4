import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { USAGE_CSV_HEADER } from "../../src/report/render-csv.js";
import { MANIFEST_FILE, REPORT_FILES } from "../../src/report/types.js";
import { dailyKey } from "../../src/storage/publish.js";

/**
 * The Athena statements in the README, checked against the file layout and the usage.csv
 * header they must read: no Athena here, so syntax and layout are checked structurally.
 */

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const sql = /```sql\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
const statements = sql
  .split(/;\s*(?:\n|$)/)
  .map((s) => s.trim())
  .filter(Boolean);
const [table = "", view = ""] = statements;

/** Athena LIKE → RegExp (only % and _ are special). */
const like = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      .replace(/%/g, ".*")
      .replace(/_/g, ".")}$`,
  );

describe("the README's Athena DDL", () => {
  it("is two complete statements with balanced parentheses and quotes", () => {
    expect(statements).toHaveLength(2);
    expect(table).toMatch(/^CREATE EXTERNAL TABLE modelarts_usage_raw \(/);
    expect(view).toMatch(/^CREATE OR REPLACE VIEW modelarts_usage AS\nSELECT/);
    for (const s of statements) {
      let depth = 0;
      for (const ch of s.replace(/'[^']*'/g, "''")) {
        if (ch === "(") depth++;
        if (ch === ")") depth--;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
      expect((s.match(/'/g) ?? []).length % 2).toBe(0);
    }
  });

  it("declares exactly the usage.csv columns, in order", () => {
    const columns = /modelarts_usage_raw \(([\s\S]*?)\)\nPARTITIONED/.exec(table)?.[1] ?? "";
    const names = columns.split(",").map((c) => c.trim().split(/\s+/)[0]);
    expect(names).toEqual([...USAGE_CSV_HEADER]);
    expect(table).toContain("'skip.header.line.count' = '1'");
  });

  it("gives every column a typed name in the view, in order", () => {
    const aliases = [...view.matchAll(/ AS ([a-z_]+),?\n/g)].map((m) => m[1]);
    expect(aliases).toEqual([...USAGE_CSV_HEADER]);
  });

  it("points at the daily folders and keeps only usage.csv", () => {
    const location = /LOCATION 's3:\/\/BUCKET\/reports\/([^']*)'/.exec(table)?.[1];
    const template = /'storage\.location\.template' = 's3:\/\/BUCKET\/reports\/([^']*)'/.exec(
      table,
    )?.[1];
    expect(location).toBe("daily/");
    const placeholder = ["$", "{dt}"].join(""); // Athena's, not a template literal's
    expect(template).toBe(`daily/${placeholder}/`);
    const date = "2026-11-27";
    expect(`${template?.replace(placeholder, date)}usage.csv`).toBe(dailyKey(date, "usage.csv"));
    // the projection's format reads the folder names the job writes
    expect(/'projection\.dt\.format' = 'yyyy-MM-dd'/.test(table)).toBe(true);
    const path = like(/"\$path" LIKE '([^']+)'/.exec(view)?.[1] ?? "");
    for (const name of [...REPORT_FILES, MANIFEST_FILE]) {
      expect(path.test(`s3://BUCKET/reports/${dailyKey(date, name)}`)).toBe(name === "usage.csv");
    }
  });
});
