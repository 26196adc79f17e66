/**
 * Shared test setup: a real hub on loopback over a real SQLite file, and the
 * official SDK as client and worker. Everything started here is stopped by
 * `using`-style cleanup registered with the test context.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  NoOpLogger,
  TaskHubGrpcClient,
  TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import { HubServer } from "../../src/hub/server.js";
import { openSqliteStore } from "../../src/hub/store/sqlite/sqlite-store.js";
import { openPostgresStore } from "../../src/hub/store/postgres/postgres-store.js";
import { freshDatabase } from "../support/postgres.js";
import type {
  DispatchObserver,
  DispatchOptions,
} from "../../src/hub/dispatch/dispatcher.js";

/** What a test gets from `startHub`. */
export interface TestHub {
  server: HubServer;
  address: string;
  dbPath: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * The store the hub tests run against: `DURASCRIBE_TEST_STORE=postgres`
 * runs the same suite on PostgreSQL (`npm test` runs both).
 */
export const storeKind: "sqlite" | "postgres" =
  process.env.DURASCRIBE_TEST_STORE === "postgres" ? "postgres" : "sqlite";

/** Short heartbeats, so a killed hub's locks go within a second or two. */
const PG_TEST_OPTIONS = "heartbeat_ms=200&dead_after_ms=1000";

/**
 * A store location for one test: a SQLite file in `dir`, or a fresh
 * PostgreSQL database dropped by `cleanup`.
 */
export async function testStoreSpec(
  dir: string,
): Promise<{ spec: string; cleanup: () => Promise<void> }> {
  if (storeKind === "sqlite") {
    return { spec: `sqlite:${join(dir, "hub.db")}`, cleanup: async () => {} };
  }
  const db = await freshDatabase();
  return { spec: `${db.url}?${PG_TEST_OPTIONS}`, cleanup: () => db.drop() };
}

/** A fresh temp folder, removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "durascribe-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a hub on 127.0.0.1 with a free port over a SQLite file. */
export async function startHub(
  opts: {
    dir?: string;
    token?: string;
    dispatch?: Partial<DispatchOptions>;
    observer?: DispatchObserver;
  } = {},
): Promise<TestHub> {
  const own = opts.dir ? undefined : tempDir();
  const dir = opts.dir ?? own!.dir;
  const dbPath = join(dir, "hub.db");
  const { spec, cleanup } = await testStoreSpec(dir);
  const store =
    storeKind === "sqlite"
      ? openSqliteStore(dbPath)
      : await openPostgresStore(spec);
  const server = new HubServer({
    store,
    port: 0,
    token: opts.token,
    dispatch: opts.dispatch,
    observer: opts.observer,
  });
  await server.start();
  return {
    server,
    address: `127.0.0.1:${server.port}`,
    dbPath,
    dir,
    stop: async () => {
      await server.stop();
      await cleanup();
      own?.cleanup();
    },
  };
}

/** Metadata for a task hub and optional token. */
export function metadata(taskhub?: string, token?: string) {
  return () => {
    const md = new grpc.Metadata();
    if (taskhub) md.set("taskhub", taskhub);
    if (token) md.set("authorization", `Bearer ${token}`);
    return Promise.resolve(md);
  };
}

/** An SDK client for the hub. */
export function sdkClient(
  address: string,
  opts: { taskhub?: string; token?: string } = {},
): TaskHubGrpcClient {
  return new TaskHubGrpcClient({
    hostAddress: address,
    logger: new NoOpLogger(),
    metadataGenerator: metadata(opts.taskhub, opts.token),
  });
}

/** An SDK worker for the hub, started, with what `register` adds. */
export async function sdkWorker(
  address: string,
  register: (w: TaskHubGrpcWorker) => void,
  opts: { taskhub?: string; token?: string } = {},
): Promise<TaskHubGrpcWorker> {
  const worker = new TaskHubGrpcWorker({
    hostAddress: address,
    logger: new NoOpLogger(),
    metadataGenerator: metadata(opts.taskhub, opts.token),
    shutdownTimeoutMs: 2000,
  });
  register(worker);
  await worker.start();
  return worker;
}

/**
 * Re-checks `probe` until it returns a value other than undefined. For
 * states the SDK offers no wait for (suspended, running); bounded in time.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Cleanups that run in reverse order of registration after the test (the
 * test runner's own `after` hooks run in registration order).
 */
export function deferrer(t: {
  after(fn: () => Promise<void>): void;
}): (fn: () => unknown) => void {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn();
  });
  return (fn) => void stack.push(fn);
}
