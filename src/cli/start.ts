import type { CliIo } from "./main.js";
import { runReportCli } from "./report.js";

/**
 * `npm start`: the main job on the embedded default — the built-in ModelArts simulator with
 * its seeded demo workload, reported for yesterday into file://./reports. No cloud, no network.
 */
export async function runStartCli(_argv: readonly string[], io: CliIo): Promise<number> {
  const code = await runReportCli(
    [],
    {
      ...io,
      env: { ...io.env, MODELARTS_ENDPOINT: undefined, REPORT_STORAGE: "file://./reports" },
    },
    { digest: true },
  );
  if (code === 0) {
    io.stdout.write(
      [
        "",
        "The demo report is in ./reports (daily/<date>/report.json, usage.csv, jobs.csv, sources.csv, and latest.json).",
        "The demo is an organisation: two projects in two regions, one of them with three workspaces.",
        "Serve it over HTTP:  REPORT_API_TOKEN=dev-token REPORT_LINK_KEY=<32+ characters> npm run dev",
        "then make a link a browser can open:  REPORT_LINK_KEY=<the same> npm run link -- --path '/reports/latest?format=html'",
        "",
      ].join("\n"),
    );
  }
  return code;
}
