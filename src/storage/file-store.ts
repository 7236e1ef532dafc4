import { createHash, randomBytes } from "node:crypto";
import {
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { StorageError } from "../shared/errors.js";
import type { ReportStore, StoredObject } from "./store.js";

/**
 * Throws a StorageError unless `key` is a plain relative key: `/`-separated, non-empty
 * segments, no `.` or `..`, no backslash, no NUL. The HTTP layer validates names too; this is
 * the last line before a key becomes a path on disk (or a path in a presigned URL, where a URL
 * parser would resolve `..` as well), so both stores use it.
 */
export function assertValidKey(key: string, storeUrl: string): void {
  const problem =
    key === ""
      ? "is empty"
      : key.startsWith("/")
        ? "is absolute"
        : key.includes("\\")
          ? "contains a backslash"
          : key.includes("\0")
            ? "contains a NUL character"
            : key.split("/").some((s) => s === "")
              ? "has an empty segment"
              : key.split("/").some((s) => s === "." || s === "..")
                ? "has a . or .. segment"
                : undefined;
  if (problem !== undefined) {
    throw new StorageError(`invalid key ${JSON.stringify(key)} for ${storeUrl}: it ${problem}`);
  }
}

/** `daily` and `daily/` name the same folder; `""` is the root. */
export function normalizeFolderPrefix(prefix: string, storeUrl: string): string {
  const folder = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (folder !== "") assertValidKey(folder, storeUrl);
  return folder;
}

function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

/** A strong validator of a file's content, quoted as an HTTP ETag. */
function etagOf(body: Buffer): string {
  return `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"`;
}

/** A compare-and-replace guard older than this was left by a process that died holding it. */
const GUARD_STALE_MS = 10_000;
/** How long to wait for another process's guard before giving up. */
const GUARD_WAIT_MS = 5_000;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Report storage in a local directory (`file://path`), for running locally and in tests. */
export class FileStore implements ReportStore {
  readonly url: string;
  readonly #root: string;

  /** `root` should be absolute (openStore resolves it); `url` is only used in messages. */
  constructor(root: string, url: string = pathToFileURL(root).href) {
    this.#root = root;
    this.url = url;
  }

  #path(key: string): string {
    assertValidKey(key, this.url);
    return join(this.#root, ...key.split("/"));
  }

  async put(key: string, body: string | Buffer, _contentType: string): Promise<void> {
    const path = this.#path(key);
    // Same directory as the target so rename() stays on one file system and is atomic: a
    // reader sees the old file or the new one. The leading dot keeps it out of casual listings.
    const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, body);
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new StorageError(`put ${key} in ${this.url} failed: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async putIf(
    key: string,
    body: string,
    _contentType: string,
    expected: string | null,
  ): Promise<string | undefined> {
    const path = this.#path(key);
    const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
    const etag = etagOf(Buffer.from(body));
    try {
      await mkdir(dirname(path), { recursive: true });
      // Written whole under a temporary name first, so no reader ever sees a partial object.
      await writeFile(tmp, body);
      if (expected === null) {
        // link() creates the name only if it is free, atomically, with the whole content.
        try {
          await link(tmp, path);
          return etag;
        } catch (error) {
          if (errnoCode(error) === "EEXIST") return undefined;
          throw error;
        }
      }
      return await this.#guarded(path, async () => {
        if ((await this.#etagAt(path)) !== expected) return undefined;
        await rename(tmp, path);
        return etag;
      });
    } catch (error) {
      throw new StorageError(`conditional put ${key} in ${this.url} failed: ${describe(error)}`, {
        cause: error,
      });
    } finally {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async deleteIf(key: string, expected: string): Promise<boolean> {
    const path = this.#path(key);
    try {
      return await this.#guarded(path, async () => {
        if ((await this.#etagAt(path)) !== expected) return false;
        await unlink(path);
        return true;
      });
    } catch (error) {
      throw new StorageError(
        `conditional delete ${key} in ${this.url} failed: ${describe(error)}`,
        { cause: error },
      );
    }
  }

  /** The ETag of the file at `path` (as `get` gives it), or `null` when there is none. */
  async #etagAt(path: string): Promise<string | null> {
    try {
      return etagOf(await readFile(path));
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return null;
      throw error;
    }
  }

  /**
   * Runs `step` (a compare-then-replace) while holding `<path>.guard`, taken by an atomic
   * exclusive create, so that two processes cannot interleave their compare and replace. A
   * guard is held for a few milliseconds; one older than GUARD_STALE_MS was left by a process
   * that died holding it and is broken.
   */
  async #guarded<T>(path: string, step: () => Promise<T>): Promise<T> {
    const guard = join(dirname(path), `.${basename(path)}.guard`);
    const started = Date.now();
    for (;;) {
      try {
        await writeFile(guard, String(process.pid), { flag: "wx" });
        break;
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw error;
        const age = await stat(guard).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > GUARD_STALE_MS) await rm(guard, { force: true });
        else if (Date.now() - started > GUARD_WAIT_MS) {
          throw new Error(`${guard} has been held for over ${GUARD_WAIT_MS} ms`);
        } else await sleep(5 + Math.random() * 20);
      }
    }
    try {
      return await step();
    } finally {
      await rm(guard, { force: true });
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    try {
      await rm(path, { force: true });
    } catch (error) {
      throw new StorageError(`delete ${key} in ${this.url} failed: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async has(key: string): Promise<boolean> {
    const path = this.#path(key);
    try {
      return (await stat(path)).isFile();
    } catch (error) {
      const code = errnoCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return false;
      throw new StorageError(`stat ${key} in ${this.url} failed: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const path = this.#path(key);
    let body: Buffer;
    let modifiedAt: number;
    try {
      body = await readFile(path);
      modifiedAt = (await stat(path)).mtimeMs;
    } catch (error) {
      const code = errnoCode(error);
      // EISDIR/ENOTDIR: the key names a folder, or goes through a file; like S3, no object.
      if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
      throw new StorageError(`get ${key} from ${this.url} failed: ${describe(error)}`, {
        cause: error,
      });
    }
    return { body, etag: etagOf(body), modifiedAt };
  }

  async listFolders(prefix: string): Promise<string[]> {
    const folder = normalizeFolderPrefix(prefix, this.url);
    const path = folder === "" ? this.#root : join(this.#root, ...folder.split("/"));
    try {
      const entries = await readdir(path, { withFileTypes: true });
      return entries
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
    } catch (error) {
      const code = errnoCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return [];
      throw new StorageError(
        `list folders under ${prefix} in ${this.url} failed: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async downloadUrl(
    key: string,
    _downloadName: string,
    _expiresInSeconds: number,
  ): Promise<string | undefined> {
    assertValidKey(key, this.url);
    // Files are served by the API itself (report.md §7); there is no URL to hand out.
    return undefined;
  }
}
