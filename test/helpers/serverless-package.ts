import { execFile } from "node:child_process";
import { cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { inflateRawSync } from "node:zlib";

/**
 * A real `serverless package` of a copy of this project, with no AWS credentials (as CI runs
 * it), and readers for what it writes: the compiled CloudFormation template and the zips.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const PACKAGE_TIMEOUT_MS = 180_000;

export type Props = Record<string, unknown>;
export interface Resource {
  Type: string;
  Properties?: Props;
}
export interface Template {
  Resources: Record<string, Resource>;
}

const execFileAsync = promisify(execFile);

/** The process environment minus anything that could give the CLI AWS credentials. */
function envWithoutCredentials(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("AWS_")) env[name] = value;
  }
  // Nor from ~/.aws or the instance metadata service.
  env.AWS_SHARED_CREDENTIALS_FILE = join(dir, "no-credentials");
  env.AWS_CONFIG_FILE = join(dir, "no-config");
  env.AWS_EC2_METADATA_DISABLED = "true";
  return env;
}

/** The files `serverless package` reads; node_modules is linked, not copied. */
const PROJECT_FILES = [
  "serverless.yml",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "src",
  "scripts/stack-params.cjs",
];

/**
 * Packages a copy of the project in `dir`: serverless-esbuild builds in `<service>/.esbuild`
 * and deletes it when done, which would pull the bundle from under a running `npm run dev`
 * (or a parallel `npm run package`) if this ran in the working tree.
 */
export async function packageService(
  dir: string,
  extraArgs: string[] = [],
  stage = "ci",
): Promise<Template> {
  const project = join(dir, "project");
  const outDir = join(dir, "package");
  for (const file of PROJECT_FILES) {
    await cp(join(ROOT, file), join(project, file), { recursive: true });
  }
  await symlink(join(ROOT, "node_modules"), join(project, "node_modules"), "dir");
  // What `npm run dev` leaves in a working tree: the local stage's build, with its in-process
  // POST handler (job and demo simulator included), in its own work folder and in the shared
  // one that serverless-esbuild used by default. No deployed stage may pick it up.
  for (const work of [".esbuild/local/.build", ".esbuild/.build"]) {
    const leftover = join(project, work, "src/handlers");
    await mkdir(leftover, { recursive: true });
    await writeFile(
      join(leftover, "post-reports-local.mjs"),
      "// left over from the local stage\n",
    );
  }
  const args = ["serverless", "package", "--stage", stage, "--package", outDir, ...extraArgs];
  try {
    await execFileAsync("npx", args, {
      cwd: project,
      env: envWithoutCredentials(dir),
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`npx ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
  const path = join(outDir, "cloudformation-template-update-stack.json");
  return JSON.parse(await readFile(path, "utf8")) as Template;
}

/** Where `packageService(dir)` left the zips and the template. */
export const packageDir = (dir: string) => join(dir, "package");

/** The files in a zip, by name, inflated: enough of the format to read our own bundles. */
export function unzip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error("not a zip file");
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    files.set(name, method === 0 ? data : inflateRawSync(data));
    at += 46 + skip;
  }
  return files;
}

/** What `serverless print` resolves: the provider's and each function's settings. */
export interface ResolvedService {
  provider: { environment?: Record<string, unknown> };
  functions: Record<string, { handler: string; environment?: Record<string, unknown> }>;
  custom?: Record<string, unknown>;
}

/**
 * `serverless print --stage <stage>` of this project with `env` added to a credential-free
 * environment: serverless.yml with every variable resolved as `npm run dev` (or a deploy)
 * resolves it, without building or packaging anything.
 */
export async function printService(
  dir: string,
  stage: string,
  env: Record<string, string>,
): Promise<ResolvedService> {
  const args = ["serverless", "print", "--stage", stage, "--format", "json"];
  try {
    const { stdout } = await execFileAsync("npx", args, {
      cwd: ROOT,
      env: { ...envWithoutCredentials(dir), ...env },
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout) as ResolvedService;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`npx ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}
