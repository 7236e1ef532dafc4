/**
 * The simulator's authentication: ready tokens, AK/SK signatures (checked with our own
 * signer) and the IAM token call `POST /v3/auth/tokens` that issues tokens with an expiry.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as z from "zod";
import { verifySignature } from "../modelarts/signer.js";
import { header, sendJson } from "./http.js";

export interface SimulatorAuth {
  /** Ready tokens accepted as `X-Auth-Token` forever. */
  tokens?: readonly string[];
  /** Key pairs accepted for `SDK-HMAC-SHA256` signing. */
  aksk?: readonly { ak: string; sk: string }[];
  /** Users that may get a token from `POST /v3/auth/tokens`. */
  iamUsers?: readonly { username: string; password: string; domain: string }[];
}

export type AuthVerdict =
  | { ok: true }
  | { ok: false; status: number; code: string; message: string };

/** What a request carries that authentication reads. */
export interface AuthRequest {
  req: IncomingMessage;
  path: string;
  query: URLSearchParams;
  body: string;
}

const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;

const iamRequestSchema = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()).refine((methods) => methods.includes("password"), {
        message: 'methods must include "password"',
      }),
      password: z.object({
        user: z.object({
          name: z.string().min(1),
          password: z.string().min(1),
          domain: z.object({ name: z.string().min(1) }),
        }),
      }),
    }),
    scope: z
      .object({
        project: z
          .object({ name: z.string().min(1).optional(), id: z.string().min(1).optional() })
          .refine((p) => p.name !== undefined || p.id !== undefined, {
            message: "project needs a name or an id",
          }),
      })
      .optional(),
  }),
});

const NO_CREDENTIALS: AuthVerdict = {
  ok: false,
  status: 401,
  code: "ModelArts.0203",
  message: "No credentials: send X-Auth-Token or an SDK-HMAC-SHA256 Authorization header",
};

function akskDenied(message: string): AuthVerdict {
  return { ok: false, status: 403, code: "ModelArts.0206", message };
}

export class Iam {
  readonly #projectId: string;
  readonly #now: () => number;
  readonly #tokenTtlMs: number;
  readonly #staticTokens: ReadonlySet<string>;
  readonly #secrets: ReadonlyMap<string, string>;
  readonly #users: NonNullable<SimulatorAuth["iamUsers"]>;
  /** IAM-issued token → expiry (epoch ms). */
  readonly #issued = new Map<string, number>();

  constructor(opts: {
    projectId: string;
    auth: SimulatorAuth;
    now: () => number;
    tokenTtlMs?: number | undefined;
  }) {
    this.#projectId = opts.projectId;
    this.#now = opts.now;
    this.#tokenTtlMs = opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.#staticTokens = new Set(opts.auth.tokens ?? []);
    this.#secrets = new Map((opts.auth.aksk ?? []).map(({ ak, sk }) => [ak, sk]));
    this.#users = opts.auth.iamUsers ?? [];
  }

  /** A token (ready or issued and not expired), else an AK/SK signature, else a 401. */
  authenticate({ req, path, query, body }: AuthRequest): AuthVerdict {
    const token = header(req, "x-auth-token");
    if (token !== undefined) {
      if (this.#staticTokens.has(token)) return { ok: true };
      const expires = this.#issued.get(token);
      if (expires !== undefined && expires > this.#now()) return { ok: true };
      return { ok: false, status: 401, code: "ModelArts.0203", message: "Invalid token" };
    }
    const authorization = header(req, "authorization");
    if (!authorization?.startsWith("SDK-HMAC-SHA256")) return NO_CREDENTIALS;
    const verdict = verifySignature(
      { method: req.method ?? "GET", path, query, headers: req.headers, body },
      (ak) => this.#secrets.get(ak),
      new Date(this.#now()),
    );
    if (!verdict.ok) return akskDenied(`Invalid AK/SK signature: ${verdict.reason}`);
    // Project-scoped services need X-Project-Id, signed, with AK/SK (subprojects do; the
    // official SDKs always send it): modelarts-api.md, "Authentication".
    const signed = /SignedHeaders=([^,\s]*)/.exec(authorization)?.[1]?.split(";") ?? [];
    if (header(req, "x-project-id") !== this.#projectId || !signed.includes("x-project-id")) {
      return akskDenied("Invalid AK/SK request: a signed X-Project-Id of the project is required");
    }
    return { ok: true };
  }

  /** `POST /v3/auth/tokens`: a token in `X-Subject-Token` for a known user, else 400/401. */
  handleTokenRequest(res: ServerResponse, body: string): void {
    const iamError = (code: number, title: string, message: string): void =>
      sendJson(res, code, { error: { code, message, title } });
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      iamError(400, "Bad Request", "The request body is not valid JSON.");
      return;
    }
    const parsed = iamRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined ? "body" : issue.path.map(String).join(".");
      iamError(
        400,
        "Bad Request",
        `Invalid request body at ${where}: ${issue?.message ?? "invalid"}`,
      );
      return;
    }
    const { user } = parsed.data.auth.identity.password;
    const known = this.#users.some(
      (u) =>
        u.username === user.name && u.domain === user.domain.name && u.password === user.password,
    );
    if (!known) {
      iamError(401, "Unauthorized", "The username or password is wrong.");
      return;
    }
    const issuedAt = this.#now();
    const token = this.#issue(issuedAt);
    const project = parsed.data.auth.scope?.project;
    sendJson(
      res,
      201,
      {
        token: {
          expires_at: new Date(issuedAt + this.#tokenTtlMs).toISOString(),
          issued_at: new Date(issuedAt).toISOString(),
          methods: ["password"],
          user: { name: user.name, domain: { name: user.domain.name } },
          ...(project === undefined
            ? {}
            : { project: { id: project.id ?? this.#projectId, name: project.name ?? null } }),
        },
      },
      { "X-Subject-Token": token },
    );
  }

  /** A new token valid from `issuedAt`; expired ones are forgotten first. */
  #issue(issuedAt: number): string {
    for (const [token, expires] of this.#issued) {
      if (expires <= issuedAt) this.#issued.delete(token);
    }
    // Real tokens are long opaque strings starting with "MII"; the shape does not matter.
    const token = `MIIsim${randomBytes(48).toString("base64url")}`;
    this.#issued.set(token, issuedAt + this.#tokenTtlMs);
    return token;
  }
}
