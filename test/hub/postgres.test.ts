import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import {
  OrchestrationStatus,
  whenAll,
  type OrchestrationContext,
} from "@microsoft/durabletask-js";
import { openPostgresStore } from "../../src/hub/store/postgres/postgres-store.js";
import { MIGRATIONS } from "../../src/hub/store/postgres/schema.js";
import { HubServer } from "../../src/hub/server.js";
import { freshDatabase } from "../support/postgres.js";
import {
  deferrer,
  sdkClient,
  sdkWorker,
  storeKind,
  tempDir,
} from "./helpers.js";
import { spawnHub } from "./process.js";

const skip = storeKind !== "postgres" && "PostgreSQL suite only";

async function* fanOut(ctx: OrchestrationContext, n: number): any {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ctx.callActivity("double", i));
  const results: number[] = yield whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
}

async function* chain(ctx: OrchestrationContext): any {
  let x = 1;
  for (let i = 0; i < 5; i++) x = yield ctx.callActivity("double", x);
  return x;
}

async function* nap(ctx: OrchestrationContext): any {
  yield ctx.createTimer(0.5);
  return "woke";
}

const double = (_: unknown, i: number) => i * 2;

async function hubOn(url: string): Promise<HubServer> {
  const server = new HubServer({
    store: await openPostgresStore(
      `${url}?heartbeat_ms=200&dead_after_ms=1000`,
    ),
    port: 0,
  });
  await server.start();
  return server;
}

test(
  "two hubs starting together migrate the schema once",
  { skip },
  async (t) => {
    const defer = deferrer(t);
    const db = await freshDatabase();
    defer(() => db.drop());
    const stores = await Promise.all([
      openPostgresStore(db.url),
      openPostgresStore(db.url),
      openPostgresStore(db.url),
    ]);
    for (const s of stores) await s.close();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    defer(() => client.end());
    const r = await client.query(
      "SELECT version FROM durascribe_migrations ORDER BY version",
    );
    assert.deepEqual(
      r.rows.map((x) => Number(x.version)),
      MIGRATIONS.map((_, i) => i + 1),
    );
  },
);

test(
  "a hub wakes another through NOTIFY instead of waiting for its poll",
  { skip },
  async (t) => {
    const defer = deferrer(t);
    const db = await freshDatabase();
    defer(() => db.drop());
    const a = await hubOn(db.url);
    defer(() => a.stop());
    const b = await hubOn(db.url);
    defer(() => b.stop());
    // The worker listens on hub B only; the client talks to hub A.
    const worker = await sdkWorker(`127.0.0.1:${b.port}`, (w) => {
      w.addOrchestrator(chain);
      w.addNamedActivity("double", double);
    });
    defer(() => worker.stop());
    const client = sdkClient(`127.0.0.1:${a.port}`);
    defer(() => client.stop());

    const started = Date.now();
    const id = await client.scheduleNewOrchestration(chain);
    const s = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.equal(JSON.parse(s!.serializedOutput!), 32);
    // Eleven steps crossing hubs; with polling alone each could wait 2 s.
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  },
);

test(
  "with two hubs on one database each timer fires once",
  { skip },
  async (t) => {
    const defer = deferrer(t);
    const db = await freshDatabase();
    defer(() => db.drop());
    const a = await hubOn(db.url);
    defer(() => a.stop());
    const b = await hubOn(db.url);
    defer(() => b.stop());
    const register = (w: any) => w.addOrchestrator(nap);
    const wa = await sdkWorker(`127.0.0.1:${a.port}`, register);
    defer(() => wa.stop());
    const wb = await sdkWorker(`127.0.0.1:${b.port}`, register);
    defer(() => wb.stop());
    const client = sdkClient(`127.0.0.1:${a.port}`);
    defer(() => client.stop());

    const ids = [];
    for (let i = 0; i < 10; i++) {
      ids.push(await client.scheduleNewOrchestration(nap));
    }
    for (const id of ids) {
      const s = await client.waitForOrchestrationCompletion(id, true, 30);
      assert.equal(s?.runtimeStatus, OrchestrationStatus.COMPLETED);
      const history = await client.getOrchestrationHistory(id);
      assert.equal(history.filter((e) => e.type === "TimerFired").length, 1);
    }
  },
);

test(
  "a hub killed with SIGKILL mid fan-out fails over to the other hub",
  { skip },
  async (t) => {
    const defer = deferrer(t);
    const { cleanup } = tempDir();
    defer(cleanup);
    const db = await freshDatabase();
    defer(() => db.drop());
    const spec = `${db.url}?heartbeat_ms=200&dead_after_ms=1000`;
    const doomed = await spawnHub(spec);
    defer(() => doomed.child.kill("SIGKILL"));
    const survivor = await spawnHub(spec);
    defer(() => survivor.child.kill("SIGTERM"));

    let executed = 0;
    let killed = false;
    const register = (w: any) => {
      w.addOrchestrator(fanOut);
      w.addNamedActivity("double", (_: unknown, i: number) => {
        executed++;
        if (executed === 300 && !killed) {
          killed = true;
          doomed.child.kill("SIGKILL");
        }
        return i * 2;
      });
    };
    const onDoomed = await sdkWorker(doomed.address, register);
    defer(() => onDoomed.stop());
    const onSurvivor = await sdkWorker(survivor.address, register);
    defer(() => onSurvivor.stop());
    const client = sdkClient(survivor.address);
    defer(() => client.stop());

    const id = await client.scheduleNewOrchestration(fanOut, 1000);
    const s = await client.waitForOrchestrationCompletion(id, true, 120);
    assert.ok(killed, "the hub was killed during the fan-out");
    assert.equal(s?.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.equal(JSON.parse(s.serializedOutput!), 1000 * 999);
    const history = await client.getOrchestrationHistory(id);
    assert.equal(
      history.filter((e) => e.type === "TaskCompleted").length,
      1000,
    );
  },
);
