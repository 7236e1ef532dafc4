import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runReindexCli } from "../../src/cli/reindex.js";
import { renderReportJson } from "../../src/report/render-json.js";
import { FileStore } from "../../src/storage/file-store.js";
import { dailyKey, monthlyKey } from "../../src/storage/publish.js";
import { apiGatewayEvent, lambdaContext } from "../helpers/apigw.js";
import { type SecretsManagerStandIn, startSecretsManager } from "../helpers/aws-standins.js";
import { loadHandlers, localS3Env } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";
import { sink } from "../helpers/sink.js";

/**
 * Stored files are not trusted: a report.json in the bucket that someone changed, or that was
 * cut short, reaches the page only through the schema of the report, and everything that
 * reaches the page is escaped. And a JSON answer needs no link key: links are signed for pages
 * only, and a page whose key cannot be read is still shown, without signed links.
 */

const TOKEN = `api-${randomUUID()}`;
const MARK = '<marquee>x</marquee><a href="https://evil.example/login">log in</a>';
/** The tags a report page is made of: anything else in a page came from a file. */
const PAGE_TAGS = new Set(
  "html head meta title style body header h1 h2 span p br a section div b nav figure figcaption svg g rect text title line i ul li table thead tbody tr th td"
    .split(" ")
    .map((t) => t.toLowerCase()),
);

let dir: string;
let store: FileStore;
const logLines: string[] = [];

beforeAll(async () => {
  captureOutput(logLines);
  dir = await mkdtemp(join(tmpdir(), "stored-report-"));
  store = new FileStore(join(dir, "reports"));
});

afterEach(() => {
  logLines.length = 0;
  vi.unstubAllEnvs();
});

afterAll(async () => {
  vi.restoreAllMocks();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function routes(env: Record<string, string | undefined> = {}) {
  return (
    await loadHandlers({
      REPORT_STORAGE: `file://${join(dir, "reports")}`,
      REPORT_API_TOKEN: TOKEN,
      REPORT_LINK_KEY: undefined,
      REPORT_LINK_KEY_SECRET: undefined,
      ...env,
    })
  ).routes;
}

async function get(
  path: string,
  accept: string,
  env: Record<string, string | undefined> = {},
): Promise<{ status: number; type: string; body: string }> {
  const r = await routes(env);
  const month = /^\/reports\/months\//.test(path);
  const handler =
    path === "/reports"
      ? r["GET /reports"]
      : month
        ? r["GET /reports/months/{month}"]
        : r["GET /reports/{date}"];
  const result = await handler(
    apiGatewayEvent({ url: path, headers: { authorization: `Bearer ${TOKEN}`, accept } }),
    lambdaContext(),
  );
  return {
    status: result.statusCode ?? 0,
    type: String(result.headers?.["content-type"] ?? ""),
    body: result.body ?? "",
  };
}

/** Every element name in a document, lower-cased. */
function tagsOf(html: string): string[] {
  return [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => (m[1] ?? "").toLowerCase());
}

describe("a stored report.json that someone changed", () => {
  it("shows markup in its text fields as text, never as markup", async () => {
    const metrics = makeMetrics({ gpu_hours: 2273.683392, versions_failed: 1 });
    const json = JSON.parse(
      renderReportJson(
        makeReport({
          timezone: MARK,
          generated_at: MARK,
          window: { start: MARK, end: MARK },
          source: {
            endpoint: MARK,
            project_id: MARK,
            workspace_id: MARK,
            pool_id: MARK,
            versions_scanned: 3,
            pages: 1,
          },
          totals: metrics,
          by_flavor: [{ flavor_code: MARK, ...metrics }],
          by_pool: [{ pool_id: MARK, ...metrics }],
          by_flavor_pool: [{ flavor_code: MARK, pool_id: MARK, ...metrics }],
          statuses: [{ status: 11, name: MARK, versions: 1 }],
          anomalies: {
            skipped: 1,
            duplicate_rows: 0,
            reasons: { [MARK]: 1 },
            unpriced_flavors: [MARK],
          },
          currency: MARK,
          longest_waits: [
            {
              version_id: 7,
              version_name: MARK,
              flavor_code: MARK,
              pool_id: MARK,
              wait_hours: 1,
            },
          ],
        }),
      ),
    ) as Record<string, unknown>;
    (json.totals as Record<string, unknown>).cost = 12.5;
    await store.put(
      dailyKey("2026-11-27", "report.json"),
      JSON.stringify(json),
      "application/json",
    );

    const page = await get("/reports/2026-11-27", "text/html");
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).not.toContain("<marquee");
    expect(page.body).not.toContain('href="https://evil.example');
    expect(page.body).toContain("&lt;marquee&gt;");
    const foreign = tagsOf(page.body).filter((t) => !PAGE_TAGS.has(t));
    expect(foreign).toEqual([]);
  });

  it("answers invalid_stored_report for markup where a number belongs, and logs it", async () => {
    const json = JSON.parse(renderReportJson(makeReport())) as Record<string, unknown>;
    json.source = { ...(json.source as object), versions_scanned: MARK, pages: MARK };
    json.statuses = [{ status: MARK, name: "JOBSTAT_FAILED", versions: MARK }];
    json.longest_waits = [
      { version_id: MARK, version_name: "j", flavor_code: null, pool_id: null, wait_hours: 1 },
    ];
    await store.put(
      dailyKey("2026-11-26", "report.json"),
      JSON.stringify(json),
      "application/json",
    );

    for (const accept of ["text/html", "application/json"]) {
      const answer = await get("/reports/2026-11-26", accept);
      expect(answer.status, accept).toBe(502);
      expect(answer.type).toMatch(/^application\/json/);
      const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("invalid_stored_report");
      expect(body.error.message).toContain("daily/2026-11-26/report.json");
      expect(body.error.message).toContain("source.versions_scanned");
      expect(answer.body).not.toContain("<marquee");
      expect(answer.body).not.toMatch(/\bat \S+\.(ts|js):\d+/);
    }
    const log = logLines.join("");
    expect(log).toContain("invalid_stored_report");
    expect(log).toContain("daily/2026-11-26/report.json");
  });

  it("answers invalid_stored_report, not a 500, for a file of only its first four fields", async () => {
    const full = JSON.parse(renderReportJson(makeReport({ label: "2026-11-25" })));
    const head = Object.fromEntries(Object.entries(full).slice(0, 4));
    expect(Object.keys(head)).toEqual(["schema_version", "report_date", "timezone", "window"]);
    await store.put(
      dailyKey("2026-11-25", "report.json"),
      JSON.stringify(head),
      "application/json",
    );
    for (const accept of ["text/html", "application/json"]) {
      const answer = await get("/reports/2026-11-25", accept);
      expect(answer.status, accept).toBe(502);
      const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("invalid_stored_report");
      expect(body.error.message).toContain("generated_at");
    }
  });

  it("answers invalid_stored_report for a day's file that names another date or a month", async () => {
    const other = renderReportJson(makeReport({ label: "2026-11-20" }));
    await store.put(dailyKey("2026-11-24", "report.json"), other, "application/json");
    const answer = await get("/reports/2026-11-24", "application/json");
    expect(answer.status).toBe(502);
    expect(answer.body).toContain("invalid_stored_report");
    const month = renderReportJson(makeReport({ label: "2026-10", period: "month" }));
    await store.put(monthlyKey("2026-10", "report.json"), month, "application/json");
    expect((await get("/reports/months/2026-10", "text/html")).status).toBe(200);
    await store.put(dailyKey("2026-11-23", "report.json"), month, "application/json");
    expect((await get("/reports/2026-11-23", "text/html")).status).toBe(502);
  });
});

describe("npm run reindex over such files", () => {
  it("leaves out of the history every report.json the API refuses to show", async () => {
    const root = join(dir, "reindex");
    const files = new FileStore(root);
    for (const date of ["2026-11-20", "2026-11-21"]) {
      await files.put(
        dailyKey(date, "report.json"),
        renderReportJson(makeReport({ label: date })),
        "application/json",
      );
    }
    // Totals and pools as the history needs them, but markup where the page count belongs.
    const json = JSON.parse(renderReportJson(makeReport({ label: "2026-11-22" })));
    json.source.pages = MARK;
    await files.put(
      dailyKey("2026-11-22", "report.json"),
      JSON.stringify(json),
      "application/json",
    );
    const stdout = sink();
    const io = { stdout, stderr: sink(), env: {}, now: () => Date.now(), cwd: dir };
    expect(await runReindexCli(["--storage", `file://${root}`], io)).toBe(0);
    expect(stdout.text).toContain("history.json rebuilt from 2 daily reports");
    expect(stdout.text).toContain("skipped 2026-11-22: its report.json cannot be read");
  });
});

describe("a link key that cannot be read", () => {
  let secrets: SecretsManagerStandIn;
  const SECRET = { arn: "arn:aws:secretsmanager:eu-central-1:1:secret:link-key", name: "link-key" };

  beforeAll(async () => {
    await store.put(
      dailyKey("2026-11-22", "report.json"),
      renderReportJson(makeReport({ label: "2026-11-22" })),
      "application/json",
    );
    secrets = await startSecretsManager([{ ...SECRET, value: "too-short" }]);
  });
  afterAll(async () => {
    await secrets?.close();
  });

  const cases: [string, () => Record<string, string>][] = [
    [
      "a key shorter than 32 characters",
      () => ({
        ...localS3Env("http://127.0.0.1:9"),
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        REPORT_LINK_KEY_SECRET: SECRET.arn,
      }),
    ],
    [
      "Secrets Manager down",
      () => ({
        ...localS3Env("http://127.0.0.1:9"),
        // Nothing listens on the discard port.
        AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:9",
        AWS_MAX_ATTEMPTS: "1",
        REPORT_LINK_KEY_SECRET: SECRET.arn,
      }),
    ],
  ];

  for (const [name, env] of cases) {
    it(`answers a bearer JSON request with ${name}`, async () => {
      const answer = await get("/reports/2026-11-22", "application/json", env());
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ report_date: "2026-11-22" });
      const listing = await get("/reports", "application/json", env());
      expect(listing.status).toBe(200);
      expect(listing.body).toContain('"report_date":"2026-11-22"');
    });

    it(`shows the page without signed links, and logs why, with ${name}`, async () => {
      const page = await get("/reports/2026-11-22", "text/html", env());
      expect(page.status).toBe(200);
      expect(page.body).toContain('href="/reports/2026-11-22/files/usage.csv"');
      expect(page.body).not.toContain("signature=");
      expect(logLines.join("")).toMatch(/page links are not signed/);
    });
  }
});
