/**
 * Test support for the PostgreSQL store: a private cluster on loopback
 * (started on demand by `scripts/postgres.sh`) and throwaway databases.
 *
 * The port comes from `DURASCRIBE_PG_PORT` (default 54329), the same variable
 * the script reads. Only test code reads the environment for this.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** The port of the test cluster: `DURASCRIBE_PG_PORT`, default 54329. */
export function postgresPort(): number {
  const raw = process.env["DURASCRIBE_PG_PORT"];
  if (raw === undefined || raw === "") return 54329;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`DURASCRIBE_PG_PORT is not a port: ${raw}`);
  }
  return port;
}

/** The admin (superuser) URL of the test cluster, whether or not it is up. */
function adminUrlFor(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

/**
 * Repo root: this file runs as `dist/test/support/postgres.js`, three levels
 * below it.
 */
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const scriptPath = fileURLToPath(
  new URL("../../../scripts/postgres.sh", import.meta.url),
);

/** True if a server answers `SELECT 1` at `url` within about 2 s. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 2000,
  });
  // A failed connect can also emit 'error'; never let it go unhandled.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `scripts/postgres.sh`; resolves with its output, rejects with it. */
function runScript(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [scriptPath],
      {
        cwd: repoRoot,
        env: { ...process.env, DURASCRIBE_PG_PORT: String(port) },
        // A cold run installs PostgreSQL with apt-get.
        timeout: 15 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        if (err) {
          reject(
            new Error(
              `${scriptPath} failed (${err.message.split("\n")[0]}):\n` +
                `${output}\nTo set up PostgreSQL by hand, run: bash scripts/postgres.sh`,
            ),
          );
        } else {
          resolve(output);
        }
      },
    );
  });
}

async function ensureCluster(): Promise<string> {
  const port = postgresPort();
  const url = adminUrlFor(port);
  if (await answers(url)) return url;
  const output = await runScript(port);
  // The script waits for pg_isready; allow a moment more for the first
  // real connection.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await answers(url)) return url;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `scripts/postgres.sh succeeded but nothing answers at ${url}:\n${output}\n` +
      "run: bash scripts/postgres.sh",
  );
}

let adminUrl: Promise<string> | undefined;

/**
 * The superuser URL of the test cluster,
 * `postgres://postgres@127.0.0.1:PORT/postgres`. If nothing answers there,
 * runs `scripts/postgres.sh` once (installing and starting PostgreSQL as
 * needed) and checks again. The result is cached for the process; a failure
 * is not, so a later call tries again. Throws with the script's output and
 * the hint `run: bash scripts/postgres.sh` when the script fails.
 */
export function postgresAdminUrl(): Promise<string> {
  if (adminUrl === undefined) {
    const pending = ensureCluster();
    adminUrl = pending;
    pending.catch(() => {
      if (adminUrl === pending) adminUrl = undefined;
    });
  }
  return adminUrl;
}

/** Runs `fn` with a short-lived admin connection. */
async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: await postgresAdminUrl(),
    connectionTimeoutMillis: 5000,
  });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A throwaway database made by `freshDatabase`. */
export interface FreshDatabase {
  /** Its name, `durascribe_test_<random hex>`. */
  name: string;
  /** Its URL, as superuser `postgres` on the test cluster. */
  url: string;
  /**
   * Ends every other connection to it and drops it. Safe to call more than
   * once.
   */
  drop(): Promise<void>;
}

/**
 * Creates an empty database named `durascribe_test_<random>` on the test
 * cluster (starting the cluster if needed) and returns its URL. The caller
 * owns it and must call `drop()`, e.g. with `t.after(() => db.drop())`.
 */
export async function freshDatabase(): Promise<FreshDatabase> {
  const name = `durascribe_test_${randomBytes(8).toString("hex")}`;
  const admin = new URL(await postgresAdminUrl());
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin(async (c) => {
        await c.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
          [name],
        );
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}
