import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { akskAuth, iamPasswordAuth, staticTokenAuth } from "../../src/modelarts/auth.js";
import { verifySignature } from "../../src/modelarts/signer.js";
import { UpstreamError, UpstreamHttpError } from "../../src/shared/errors.js";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

type Handler = (req: Received, res: ServerResponse, call: number) => void;

interface TestServer {
  url: string;
  calls: Received[];
}

const servers: Array<ReturnType<typeof createServer>> = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A real HTTP server on 127.0.0.1, recording every request it gets. */
async function startServer(handler: Handler): Promise<TestServer> {
  const calls: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const received = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      calls.push(received);
      handler(received, res, calls.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls };
}

const T0 = Date.parse("2024-06-01T10:00:00Z");
const HOUR = 60 * 60 * 1000;
const PASSWORD = "s3cret-Pa55word!";

/** Answers like IAM: 201, the token in X-Subject-Token, expires_at in the body. */
function issueTokens(expiresAt: number = T0 + 24 * HOUR, delayMs = 0): Handler {
  return (_req, res, call) => {
    setTimeout(() => {
      res.writeHead(201, {
        "content-type": "application/json",
        "x-subject-token": `token-${call}`,
      });
      // IAM writes microseconds.
      const expires = new Date(expiresAt).toISOString().replace("Z", "000Z");
      res.end(JSON.stringify({ token: { expires_at: expires, methods: ["password"] } }));
    }, delayMs);
  };
}

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
}

const request = {
  method: "GET",
  url: new URL("https://modelarts.example.com/v1/p/training-jobs/versions"),
  headers: {},
  body: "",
};

function iamAuth(server: TestServer, extra: { clock?: () => number; timeoutMs?: number } = {}) {
  return iamPasswordAuth({
    iamEndpoint: `${server.url}/`,
    username: "alice",
    password: PASSWORD,
    domain: "acme",
    projectId: "0123456789abcdef0123456789abcdef",
    clock: () => T0,
    ...extra,
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("iamPasswordAuth", () => {
  it("posts the password grant scoped to the project and sends the token from X-Subject-Token", async () => {
    const iam = await startServer(issueTokens());
    const headers = await iamAuth(iam).authenticate(request);

    expect(headers).toEqual({ "X-Auth-Token": "token-1" });
    expect(iam.calls).toHaveLength(1);
    const [call] = iam.calls;
    expect(call?.method).toBe("POST");
    expect(call?.url).toBe("/v3/auth/tokens");
    expect(call?.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(call?.body ?? "")).toEqual({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "alice", password: PASSWORD, domain: { name: "acme" } } },
        },
        scope: { project: { id: "0123456789abcdef0123456789abcdef" } },
      },
    });
  });

  it("fetches one token for two requests", async () => {
    const iam = await startServer(issueTokens());
    const auth = iamAuth(iam);
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-1" });
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-1" });
    expect(iam.calls).toHaveLength(1);
  });

  it("fetches a new token once the old one is within 5 minutes of expires_at", async () => {
    const iam = await startServer(issueTokens(T0 + HOUR));
    let now = T0;
    const auth = iamAuth(iam, { clock: () => now });
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-1" });

    now = T0 + HOUR - 5 * 60 * 1000 - 1;
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-1" });
    expect(iam.calls).toHaveLength(1);

    now = T0 + HOUR - 5 * 60 * 1000;
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-2" });
    expect(iam.calls).toHaveLength(2);
  });

  it("fetches a new token after the one in use is invalidated", async () => {
    const iam = await startServer(issueTokens());
    const auth = iamAuth(iam);
    const used = await auth.authenticate(request);
    expect(auth.invalidate(used)).toBe(true);
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-2" });
    expect(iam.calls).toHaveLength(2);
  });

  it("refreshes once for any number of requests rejected with the same token", async () => {
    const iam = await startServer(issueTokens(T0 + 24 * HOUR, 50));
    const auth = iamAuth(iam);
    const used = await auth.authenticate(request);
    // Eight workers got 401 with token-1, one after the other or at once.
    const retried = await Promise.all(
      Array.from({ length: 8 }, async () => {
        expect(auth.invalidate(used)).toBe(true);
        return auth.authenticate(request);
      }),
    );
    expect(retried).toEqual(Array(8).fill({ "X-Auth-Token": "token-2" }));
    // A late 401 for the old token does not throw the new one away.
    expect(auth.invalidate(used)).toBe(true);
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-2" });
    expect(iam.calls).toHaveLength(2);
  });

  it.each([
    ["delta-seconds", "7", 7],
    ["an IMF-fixdate", new Date(T0 + 30_000).toUTCString(), 30],
    ["a decimal", "1.5", undefined],
    ["a negative number", "-1", undefined],
  ])("reads Retry-After as %s with the same rules as ModelArts", async (_label, value, seconds) => {
    const iam = await startServer(answer(503, { error: { code: 503 } }, { "retry-after": value }));
    const error = await iamAuth(iam)
      .authenticate(request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as UpstreamHttpError).retryAfterSeconds).toBe(seconds);
  });

  it("shares one IAM call among concurrent requests", async () => {
    const iam = await startServer(issueTokens(T0 + 24 * HOUR, 100));
    const auth = iamAuth(iam);
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => auth.authenticate(request)));
    expect(all).toEqual(Array(5).fill({ "X-Auth-Token": "token-1" }));
    expect(iam.calls).toHaveLength(1);
  });

  it("reports a 401 with URL and status, as not retryable, without the password", async () => {
    const iam = await startServer(
      answer(401, {
        error: { code: 401, message: "The username or password is wrong.", title: "Unauthorized" },
      }),
    );
    const error = await rejection(iamAuth(iam).authenticate(request));

    expect(error).toBeInstanceOf(UpstreamHttpError);
    const http = error as UpstreamHttpError;
    expect(http.message).toContain(`POST ${iam.url}/v3/auth/tokens`);
    expect(http.message).toContain("HTTP 401");
    expect(http.message).toContain("The username or password is wrong.");
    expect(http.status).toBe(401);
    expect(http.errorCode).toBe("Unauthorized");
    expect(http.retryable).toBe(false);
    expect(http.message).not.toContain(PASSWORD);
  });

  it("keeps the password out of the message even when IAM echoes it", async () => {
    const iam = await startServer(
      answer(400, { error_code: "IAM.0001", error_msg: `bad request body: password ${PASSWORD}` }),
    );
    const error = await rejection(iamAuth(iam).authenticate(request));

    expect(error).toMatchObject({ status: 400, errorCode: "IAM.0001", retryable: false });
    expect(String((error as Error).message)).not.toContain(PASSWORD);
    expect(JSON.stringify(error)).not.toContain(PASSWORD);
  });

  it("marks 5xx and 429 answers as retryable, with Retry-After", async () => {
    const iam = await startServer((req, res, call) =>
      call === 1
        ? answer(503, "<html>Service Unavailable</html>")(req, res, call)
        : answer(429, { error_code: "APIGW.0308", error_msg: "throttled" }, { "retry-after": "7" })(
            req,
            res,
            call,
          ),
    );
    const auth = iamAuth(iam);
    expect(await rejection(auth.authenticate(request))).toMatchObject({
      status: 503,
      retryable: true,
    });
    expect(await rejection(auth.authenticate(request))).toMatchObject({
      status: 429,
      retryable: true,
      errorCode: "APIGW.0308",
      retryAfterSeconds: 7,
    });
  });

  it("does not keep a failure: the next request asks IAM again", async () => {
    const iam = await startServer((req, res, call) =>
      call === 1 ? answer(500, {})(req, res, call) : issueTokens()(req, res, call),
    );
    const auth = iamAuth(iam);
    await rejection(auth.authenticate(request));
    expect(await auth.authenticate(request)).toEqual({ "X-Auth-Token": "token-2" });
  });

  it("rejects a 201 without X-Subject-Token or without expires_at, as not retryable", async () => {
    const iam = await startServer((req, res, call) =>
      call === 1
        ? answer(201, { token: { expires_at: "2099-01-01T00:00:00.000000Z" } })(req, res, call)
        : answer(201, { token: {} }, { "x-subject-token": "secret-token-value" })(req, res, call),
    );
    const auth = iamAuth(iam);
    const noHeader = await rejection(auth.authenticate(request));
    expect(noHeader).toBeInstanceOf(UpstreamError);
    expect(noHeader).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/X-Subject-Token/),
    });
    const noExpiry = await rejection(auth.authenticate(request));
    expect(noExpiry).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/expires_at/),
    });
    expect((noExpiry as Error).message).not.toContain("secret-token-value");
  });

  it("gives up after timeoutMs with a retryable error", async () => {
    const iam = await startServer(() => {
      // never answers
    });
    const error = await rejection(iamAuth(iam, { timeoutMs: 200 }).authenticate(request));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toBe(
      `POST ${iam.url}/v3/auth/tokens: no answer within 200 ms`,
    );
  });

  it("reports a refused connection as retryable", async () => {
    const iam = await startServer(issueTokens());
    const server = servers.pop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const error = await rejection(iamAuth(iam).authenticate(request));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/connection failed/),
    });
  });

  it("describes itself by user name only", () => {
    const auth = iamPasswordAuth({
      iamEndpoint: "https://iam.eu-de.otc.t-systems.com",
      username: "alice",
      password: PASSWORD,
      domain: "acme",
      projectId: "p",
    });
    expect(auth.description).toBe("iam-password (user alice)");
  });
});

describe("staticTokenAuth", () => {
  it("sends the token as X-Auth-Token and cannot renew it", async () => {
    const auth = staticTokenAuth("given-token");
    const used = await auth.authenticate(request);
    expect(used).toEqual({ "X-Auth-Token": "given-token" });
    expect(auth.invalidate(used)).toBe(false);
    expect(auth.description).toBe("token");
  });
});

describe("akskAuth", () => {
  const creds = { ak: "HPUAEXAMPLEAK1234567", sk: "example-secret-key", projectId: "proj-1" };

  it("signs requests so that a server can verify them", async () => {
    const verdicts: unknown[] = [];
    const server = await startServer((req, res) => {
      const url = new URL(req.url, "http://placeholder");
      verdicts.push(
        verifySignature(
          {
            method: req.method,
            path: url.pathname,
            query: url.searchParams,
            headers: req.headers,
            body: req.body,
          },
          (ak) => (ak === creds.ak ? creds.sk : undefined),
          new Date(),
        ),
      );
      res.end();
    });
    const auth = akskAuth(creds);

    for (const [method, path, body] of [
      ["GET", "/v1/proj-1/training-jobs/versions?limit=0&status=10&sort_by=create_time", ""],
      ["POST", "/v1/proj-1/a b/é?q=a+b&q=%2B", '{"x":1}'],
    ] as const) {
      const url = new URL(`${server.url}${path}`);
      const headers = { accept: "application/json", "Content-Type": "application/json" };
      const added = await auth.authenticate({ method, url, headers, body });
      const response = await fetch(url, {
        method,
        headers: { ...headers, ...added },
        ...(body === "" ? {} : { body }),
      });
      expect(response.status).toBe(200);
    }

    expect(verdicts).toEqual([
      { ok: true, ak: creds.ak },
      { ok: true, ak: creds.ak },
    ]);
    expect(server.calls[0]?.headers["x-project-id"]).toBe("proj-1");
  });

  it("uses the injected clock for X-Sdk-Date and cannot renew the signature", async () => {
    const auth = akskAuth(creds, () => new Date("2024-06-01T10:00:00Z"));
    const added = await auth.authenticate(request);
    expect(added["X-Sdk-Date"]).toBe("20240601T100000Z");
    expect(auth.invalidate(added)).toBe(false);
    expect(auth.description).toBe("aksk (AK HPUA…)");
    expect(auth.description).not.toContain(creds.sk);
  });
});
