import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OrchestrationStatus,
  whenAll,
  type ActivityContext,
  type OrchestrationContext,
} from "@microsoft/durabletask-js";
import {
  sdkClient,
  sdkWorker,
  storeKind,
  tempDir,
  testStoreSpec,
} from "./helpers.js";
import { spawnHub } from "./process.js";
import { join } from "node:path";
import { existsSync, readdirSync } from "node:fs";

async function* fanOut(ctx: OrchestrationContext, n: number): any {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ctx.callActivity("double", i));
  const results: number[] = yield whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
}

async function* nap(ctx: OrchestrationContext): any {
  yield ctx.createTimer(1);
  return "woke";
}

test("a hub killed with SIGKILL mid fan-out resumes on its file and records each result once", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = await testStoreSpec(dir);
  t.after(db.cleanup);
  let hub = await spawnHub(db.spec);
  t.after(() => hub.child.kill("SIGKILL"));

  let executed = 0;
  let killed: Promise<unknown> | undefined;
  const worker = await sdkWorker(hub.address, (w) => {
    w.addOrchestrator(fanOut);
    w.addNamedActivity("double", (_: ActivityContext, i: number) => {
      executed++;
      if (executed === 100) {
        hub.child.kill("SIGKILL");
        killed = hub.child.exited;
      }
      return i * 2;
    });
  });
  t.after(() => worker.stop());
  const client = sdkClient(hub.address);
  t.after(() => client.stop());

  const id = await client.scheduleNewOrchestration(fanOut, 300);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (killed) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  assert.equal(await killed, "SIGKILL");
  hub = await spawnHub(db.spec, hub.port);

  const state = await client.waitForOrchestrationCompletion(id, true, 60);
  assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(JSON.parse(state.serializedOutput!), 300 * 299);

  const history = await client.getOrchestrationHistory(id);
  const completed = history.filter((e) => e.type === "TaskCompleted");
  const ids = new Set(completed.map((e: any) => e.taskScheduledId));
  assert.equal(completed.length, 300, "each activity result recorded once");
  assert.equal(ids.size, 300);
  assert.ok(executed >= 300);
});

test("a timer that came due while the hub was down fires after restart", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = await testStoreSpec(dir);
  t.after(db.cleanup);
  let hub = await spawnHub(db.spec);
  t.after(() => hub.child.kill("SIGKILL"));
  const worker = await sdkWorker(hub.address, (w) => w.addOrchestrator(nap));
  t.after(() => worker.stop());
  const client = sdkClient(hub.address);
  t.after(() => client.stop());

  const id = await client.scheduleNewOrchestration(nap);
  await client.waitForOrchestrationStart(id);
  hub.child.kill("SIGKILL");
  await hub.child.exited;
  // Let the one-second timer come due while nothing is running.
  await new Promise((r) => setTimeout(r, 1500));
  hub = await spawnHub(db.spec, hub.port);

  const state = await client.waitForOrchestrationCompletion(id, true, 60);
  assert.equal(JSON.parse(state!.serializedOutput!), "woke");
});

test(
  "the hub command prints its address, stops on SIGTERM and closes the database",
  {
    skip: storeKind !== "sqlite" && "SQLite file behaviour",
  },
  async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const db = join(dir, "nested", "hub.db");
    const hub = await spawnHub(`sqlite:${db}`);
    assert.match(hub.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(hub.port > 0);
    hub.child.kill("SIGTERM");
    assert.equal(await hub.child.exited, 0);
    assert.ok(existsSync(db));
    // A clean close checkpoints the WAL and removes it.
    assert.deepEqual(readdirSync(join(dir, "nested")), ["hub.db"]);
  },
);
