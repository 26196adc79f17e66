import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  OrchestrationStatus,
  PurgeInstanceCriteria,
  type OrchestrationContext,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import { sdkClient, sdkWorker, startHub, type TestHub } from "./helpers.js";

async function* echo(_: OrchestrationContext, input: unknown): any {
  return input;
}

async function* waiter(ctx: OrchestrationContext): any {
  return yield ctx.waitForExternalEvent("go");
}

async function* parent(ctx: OrchestrationContext): any {
  const a: unknown = yield ctx.callSubOrchestrator(echo, "a", {
    instanceId: `${ctx.instanceId}-a`,
  });
  const b: unknown = yield ctx.callSubOrchestrator(echo, "b", {
    instanceId: `${ctx.instanceId}-b`,
  });
  return [a, b];
}

let hub: TestHub;
let worker: TaskHubGrpcWorker;
let client: TaskHubGrpcClient;

before(async () => {
  hub = await startHub();
  worker = await sdkWorker(hub.address, (w) => {
    w.addOrchestrator(echo);
    w.addOrchestrator(waiter);
    w.addOrchestrator(parent);
  });
  client = sdkClient(hub.address);
});

after(async () => {
  await worker.stop();
  await client.stop();
  await hub.stop();
});

async function runEcho(id: string, input: unknown = id): Promise<void> {
  await client.scheduleNewOrchestration(echo, input, id);
  await client.waitForOrchestrationCompletion(id, false, 30);
}

test("GetInstance returns payloads only when asked", async () => {
  await runEcho("get-1", { hello: "world" });
  const bare = await client.getOrchestrationState("get-1", false);
  const full = await client.getOrchestrationState("get-1", true);
  assert.equal(bare?.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(bare?.serializedInput, undefined);
  assert.equal(bare?.serializedOutput, undefined);
  assert.deepEqual(JSON.parse(full!.serializedInput!), { hello: "world" });
  assert.deepEqual(JSON.parse(full!.serializedOutput!), { hello: "world" });
});

test("GetInstance of an unknown id says it does not exist", async () => {
  assert.equal(
    await client.getOrchestrationState("no-such-instance"),
    undefined,
  );
});

test("starting over a running instance is refused with ALREADY_EXISTS", async () => {
  await client.scheduleNewOrchestration(waiter, undefined, "dup-1");
  await client.waitForOrchestrationStart("dup-1");
  await assert.rejects(
    client.scheduleNewOrchestration(waiter, undefined, "dup-1"),
    (err: any) =>
      err.code === 6 && /already exists and is running/.test(err.details),
  );
  await client.raiseOrchestrationEvent("dup-1", "go", 1);
  await client.waitForOrchestrationCompletion("dup-1", false, 30);
});

test("starting over a completed instance runs it again", async () => {
  await runEcho("again-1", "first");
  await runEcho("again-1", "second");
  const s = await client.getOrchestrationState("again-1", true);
  assert.equal(JSON.parse(s!.serializedOutput!), "second");
});

test("a scheduled start time is honoured", async () => {
  const startAt = new Date(Date.now() + 1500);
  const id = await client.scheduleNewOrchestration(echo, "later", {
    instanceId: "scheduled-1",
    startAt,
  });
  const pending = await client.getOrchestrationState(id);
  assert.equal(pending?.runtimeStatus, OrchestrationStatus.PENDING);
  const done = await client.waitForOrchestrationCompletion(id, true, 30);
  assert.equal(done?.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.ok(
    done.lastUpdatedAt.getTime() >= startAt.getTime(),
    "completed before its start time",
  );
});

test("WaitForInstanceStart returns once the instance runs", async () => {
  const id = await client.scheduleNewOrchestration(waiter);
  const s = await client.waitForOrchestrationStart(id, false, 30);
  assert.equal(s?.runtimeStatus, OrchestrationStatus.RUNNING);
  await client.raiseOrchestrationEvent(id, "go", 1);
  await client.waitForOrchestrationCompletion(id, false, 30);
});

test("QueryInstances filters by status and prefix and pages with a token", async () => {
  for (let i = 0; i < 25; i++) await runEcho(`q-${String(i).padStart(2, "0")}`);
  await client.scheduleNewOrchestration(waiter, undefined, "q-running");
  await client.waitForOrchestrationStart("q-running");

  const pages: string[][] = [];
  const pageable = client.getAllInstances({
    instanceIdPrefix: "q-",
    statuses: [OrchestrationStatus.COMPLETED],
    pageSize: 10,
  });
  for await (const page of pageable.asPages()) {
    pages.push(page.values.map((s) => s.instanceId));
  }
  assert.deepEqual(
    pages.map((p) => p.length),
    [10, 10, 5],
  );
  const all = pages.flat();
  assert.equal(new Set(all).size, 25);
  assert.ok(!all.includes("q-running"));

  const running = [];
  for await (const s of client.getAllInstances({
    instanceIdPrefix: "q-",
    statuses: [OrchestrationStatus.RUNNING],
  })) {
    running.push(s.instanceId);
  }
  assert.deepEqual(running, ["q-running"]);
  await client.raiseOrchestrationEvent("q-running", "go", 1);
  await client.waitForOrchestrationCompletion("q-running", false, 30);
});

test("QueryInstances filters by created time", async () => {
  const before = new Date();
  await runEcho("created-late");
  const found = [];
  for await (const s of client.getAllInstances({ createdFrom: before })) {
    found.push(s.instanceId);
  }
  assert.ok(found.includes("created-late"));
  assert.ok(!found.includes("get-1"));
});

test("ListInstanceIds pages by key and filters by status", async () => {
  for (let i = 0; i < 7; i++) await runEcho(`l-${i}`);
  const seen: string[] = [];
  let key: string | undefined;
  let pages = 0;
  do {
    const page = await client.listInstanceIds({
      runtimeStatus: [OrchestrationStatus.COMPLETED],
      pageSize: 3,
      lastInstanceKey: key,
    });
    seen.push(...page.values);
    key = page.continuationToken;
    pages++;
  } while (key);
  assert.ok(pages >= 3);
  for (let i = 0; i < 7; i++) assert.ok(seen.includes(`l-${i}`));
  assert.equal(new Set(seen).size, seen.length, "no id on two pages");
});

test("StreamInstanceHistory returns the history from start to completion", async () => {
  await runEcho("hist-1");
  const history = await client.getOrchestrationHistory("hist-1");
  const types = history.map((e) => e.type);
  assert.equal(types[0], "OrchestratorStarted");
  assert.equal(types[1], "ExecutionStarted");
  assert.equal(types.at(-1), "ExecutionCompleted");
});

test("purging by id deletes a finished instance and spares a running one", async () => {
  await runEcho("purge-1");
  assert.equal(
    (await client.purgeOrchestration("purge-1"))?.deletedInstanceCount,
    1,
  );
  assert.equal(await client.getOrchestrationState("purge-1"), undefined);

  await client.scheduleNewOrchestration(waiter, undefined, "purge-live");
  await client.waitForOrchestrationStart("purge-live");
  assert.equal(
    (await client.purgeOrchestration("purge-live"))?.deletedInstanceCount,
    0,
  );
  assert.ok(await client.getOrchestrationState("purge-live"));
  await client.raiseOrchestrationEvent("purge-live", "go", 1);
  await client.waitForOrchestrationCompletion("purge-live", false, 30);
});

test("purging recursively deletes the sub-orchestrations too", async () => {
  await client.scheduleNewOrchestration(parent, undefined, "tree");
  await client.waitForOrchestrationCompletion("tree", false, 30);
  assert.ok(await client.getOrchestrationState("tree-a"));
  const res = await client.purgeOrchestration("tree", { recursive: true });
  assert.equal(res?.deletedInstanceCount, 3);
  assert.equal(await client.getOrchestrationState("tree-b"), undefined);
});

test("purging by criteria deletes only matching instances", async () => {
  await runEcho("crit-old");
  const from = new Date();
  await runEcho("crit-new-1");
  await runEcho("crit-new-2");
  await client.scheduleNewOrchestration(waiter, undefined, "crit-running");
  await client.waitForOrchestrationStart("crit-running");

  const criteria = new PurgeInstanceCriteria();
  criteria.setCreatedTimeFrom(from);
  criteria.setRuntimeStatusList([
    OrchestrationStatus.COMPLETED,
    OrchestrationStatus.RUNNING,
  ]);
  const res = await client.purgeOrchestration(criteria);
  assert.equal(res?.deletedInstanceCount, 2);
  assert.ok(await client.getOrchestrationState("crit-old"));
  assert.ok(await client.getOrchestrationState("crit-running"));
  assert.equal(await client.getOrchestrationState("crit-new-1"), undefined);
  await client.raiseOrchestrationEvent("crit-running", "go", 1);
  await client.waitForOrchestrationCompletion("crit-running", false, 30);
});
