import { describe, expect, it } from "vitest";
import { verifyLink } from "../../src/api/links.js";
import { runLinkCli } from "../../src/cli/link.js";
import { cliIo } from "../helpers/sink.js";

const KEY = "local-link-key-0123456789-abcdefghij";
const NOW = Date.UTC(2026, 11, 2, 1, 0);

const io = (env: Record<string, string | undefined>) => cliIo(env, NOW, process.cwd());

describe("npm run link", () => {
  it("prints a signed link to the path on the given base, valid for the ttl", async () => {
    const cli = io({ REPORT_LINK_KEY: KEY });
    const code = await runLinkCli(
      [
        "--path",
        "/reports/latest?format=html",
        "--ttl",
        "7d",
        "--base",
        "https://api.example.com/x",
      ],
      cli,
    );
    expect(code).toBe(0);
    const url = new URL(cli.stdout.text.trim());
    expect(url.origin).toBe("https://api.example.com");
    expect(url.pathname).toBe("/reports/latest");
    expect(cli.stderr.text).toBe("opens latest until 2026-12-09T01:00:00.000Z\n");
    const verdict = verifyLink(Buffer.from(KEY), Object.fromEntries(url.searchParams), NOW);
    expect(verdict.ok).toBe(true);
  });

  it("prints a team's link for one source of a day, which opens that source only", async () => {
    const cli = io({ REPORT_LINK_KEY: KEY });
    const path = "/reports/2026-11-27/sources/research.vision";
    expect(await runLinkCli(["--path", path, "--ttl", "30d"], cli)).toBe(0);
    const url = new URL(cli.stdout.text.trim());
    expect(url.pathname).toBe(path);
    expect(cli.stderr.text).toBe(
      "opens source:day:2026-11-27:research.vision until 2027-01-01T01:00:00.000Z\n",
    );
    const verdict = verifyLink(Buffer.from(KEY), Object.fromEntries(url.searchParams), NOW);
    expect(verdict).toMatchObject({ ok: true, link: { scope: { kind: "source" } } });
  });

  it.each([
    [["--path", "/reports/2026-11-27/sources/Research"], /path must be/],
    [["--ttl", "7d"], /--path is required/],
    [["--path", "/reports", "--ttl", "31d"], /at most 30 days/],
    [["--path", "/reports", "--ttl", "a week"], /is not like 30m, 12h or 7d/],
    [["--path", "/nowhere"], /path must be/],
    [["--path", "/reports", "--bogus"], /Unknown option '--bogus'/],
    [["--path", "/reports", "--base", "javascript:alert(1)"], /--base .* is not an http\(s\) URL/],
    [["--path", "/reports", "--base", "file:///etc"], /--base .* is not an http\(s\) URL/],
    [["--path", "/reports", "--base", "not a url"], /--base .* is not an http\(s\) URL/],
  ])("exits 2 for %j with one clear line", async (argv, message) => {
    const cli = io({ REPORT_LINK_KEY: KEY });
    expect(await runLinkCli(argv, cli)).toBe(2);
    expect(cli.stderr.text).toMatch(message);
    expect(cli.stderr.text.trim().split("\n")).toHaveLength(1);
    expect(cli.stdout.text).toBe("");
  });

  it("links to the normalised path, which the API routes, whatever trailing slashes were given", async () => {
    const cli = io({ REPORT_LINK_KEY: KEY });
    expect(await runLinkCli(["--path", "/reports/2026-11-25//?format=html"], cli)).toBe(0);
    const url = new URL(cli.stdout.text.trim());
    expect(url.pathname).toBe("/reports/2026-11-25");
    expect(url.searchParams.get("format")).toBe("html");
  });

  it("exits 2 without a link key, and never prints the key", async () => {
    const none = io({});
    expect(await runLinkCli(["--path", "/reports"], none)).toBe(2);
    expect(none.stderr.text).toMatch(/no link key/);
    const short = io({ REPORT_LINK_KEY: "short" });
    expect(await runLinkCli(["--path", "/reports"], short)).toBe(2);
    const ok = io({ REPORT_LINK_KEY: KEY });
    await runLinkCli(["--path", "/reports"], ok);
    expect(ok.stdout.text + ok.stderr.text).not.toContain(KEY);
  });
});
