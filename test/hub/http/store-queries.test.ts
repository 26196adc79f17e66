/**
 * The store queries the dashboard added (newest-first paging, parent and
 * top-level filters, counts by status, history ranges, activity readiness),
 * on the store the hub suite runs against: SQLite, or PostgreSQL with
 * DURASCRIBE_TEST_STORE=postgres.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  executionStartedMessage,
  newInstanceRecord,
} from "../../../src/hub/engine.js";
import { Status } from "../../../src/hub/protocol.js";
import { openStore } from "../../../src/hub/store/open.js";
import type {
  InstanceRecord,
  OrchestrationCommit,
  Store,
  TaskHubStore,
} from "../../../src/hub/store/store.js";
import { tempDir, testStoreSpec } from "../helpers.js";

let store: Store;
let hub: TaskHubStore;
let cleanup: () => Promise<void>;

const T0 = Date.UTC(2025, 4, 19, 16, 0, 0);

before(async () => {
  const dir = tempDir();
  const spec = await testStoreSpec(dir.dir);
  store = await openStore(spec.spec);
  hub = store.taskHub("queries");
  cleanup = async () => {
    await store.close();
    await spec.cleanup();
    dir.cleanup();
  };
});

after(() => cleanup());

async function create(
  id: string,
  opts: { name?: string; at: number; parent?: string },
): Promise<InstanceRecord> {
  const record = {
    ...newInstanceRecord(id, opts.name ?? "work", null, opts.at),
    parentInstanceId: opts.parent ?? null,
  };
  assert.ok(
    await hub.createInstance(record, executionStartedMessage(record, opts.at)),
  );
  return record;
}

function commit(
  instanceId: string,
  change: Partial<OrchestrationCommit> & { status?: number },
): Promise<boolean> {
  return hub.commit({
    instanceId,
    lockToken: null,
    consumedMessageIds: [],
    resetHistory: false,
    historyStart: 0,
    appendHistory: [],
    update:
      change.status === undefined
        ? { updatedAt: T0 }
        : { updatedAt: T0, status: change.status },
    activities: [],
    messages: [],
    creations: [],
    ...change,
  });
}

test("newest first pages through instances with a keyset that breaks ties by id", async () => {
  // Two share a creation time: the id decides, descending.
  await create("n-a", { at: T0 + 1 });
  await create("n-b", { at: T0 + 2 });
  await create("n-c", { at: T0 + 2 });
  await create("n-d", { at: T0 + 3 });
  const seen: string[] = [];
  let before: { createdAt: number; instanceId: string } | undefined;
  for (;;) {
    const page = await hub.listInstances({
      instanceIdPrefix: "n-",
      order: "newest",
      before,
      limit: 2,
    });
    if (page.length === 0) break;
    seen.push(...page.map((r) => r.instanceId));
    const last = page.at(-1)!;
    before = { createdAt: last.createdAt, instanceId: last.instanceId };
  }
  assert.deepEqual(seen, ["n-d", "n-c", "n-b", "n-a"]);
});

test("the parent filter finds children, and null finds top-level instances", async () => {
  await create("p-root", { at: T0 });
  await create("p-root/v/1", { at: T0, parent: "p-root" });
  await create("p-root/v/0", { at: T0, parent: "p-root" });
  await create("p-other", { at: T0, parent: "elsewhere" });
  const kids = await hub.listInstances({
    parentInstanceId: "p-root",
    limit: 10,
  });
  assert.deepEqual(
    kids.map((r) => r.instanceId),
    ["p-root/v/0", "p-root/v/1"],
  );
  const top = await hub.listInstances({
    instanceIdPrefix: "p-",
    parentInstanceId: null,
    limit: 10,
  });
  assert.deepEqual(
    top.map((r) => r.instanceId),
    ["p-root"],
  );
});

test("counts by status follow the filters and leave out zero counts", async () => {
  await create("c-1", { name: "count", at: T0 });
  await create("c-2", { name: "count", at: T0 + 10 });
  await create("c-3", { name: "count", at: T0 + 20 });
  await create("c-4", { name: "other", at: T0 + 20 });
  assert.ok(await commit("c-1", { status: Status.COMPLETED }));
  assert.ok(await commit("c-2", { status: Status.FAILED }));
  assert.deepEqual(await hub.countInstances({ name: "count" }), [
    { status: Status.COMPLETED, count: 1 },
    { status: Status.FAILED, count: 1 },
    { status: Status.PENDING, count: 1 },
  ]);
  assert.deepEqual(
    await hub.countInstances({ instanceIdPrefix: "c-", createdFrom: T0 + 10 }),
    [
      { status: Status.FAILED, count: 1 },
      { status: Status.PENDING, count: 2 },
    ],
  );
  assert.deepEqual(await hub.countInstances({ name: "nothing" }), []);
});

test("a history range returns the events from an offset, in order", async () => {
  await create("h-1", { at: T0 });
  const events = Array.from({ length: 7 }, (_, i) => Uint8Array.of(i, 42));
  assert.ok(await commit("h-1", { appendHistory: events }));
  const range = await hub.getHistory("h-1", { offset: 2, limit: 3 });
  assert.deepEqual(
    range.map((e) => e[0]),
    [2, 3, 4],
  );
  const tail = await hub.getHistory("h-1", { offset: 5, limit: 10 });
  assert.deepEqual(
    tail.map((e) => e[0]),
    [5, 6],
  );
  assert.equal((await hub.getHistory("h-1")).length, 7);
});

test("a claimed activity carries the time it became visible", async () => {
  await create("a-1", { at: T0 });
  assert.ok(
    await commit("a-1", {
      activities: [
        {
          instanceId: "a-1",
          executionId: "x",
          taskId: 1,
          name: "double",
          request: Uint8Array.of(1),
          visibleAt: T0 + 5,
        },
      ],
    }),
  );
  const [claimed] = await hub.claimActivities(T0 + 100, T0 + 60_000, 1);
  assert.equal(claimed?.readyAt, T0 + 5);
  assert.equal(claimed?.visibleAt, T0 + 60_000);
});

test("a list without payloads leaves input and output out", async () => {
  const record = {
    ...newInstanceRecord("w-1", "work", '{"big":"input"}', T0),
    customStatus: null,
  };
  assert.ok(
    await hub.createInstance(record, executionStartedMessage(record, T0)),
  );
  assert.ok(
    await commit("w-1", {
      update: { updatedAt: T0, output: '"out"', customStatus: '"half"' },
    }),
  );
  const [light] = await hub.listInstances({
    instanceIdPrefix: "w-",
    withPayloads: false,
    limit: 1,
  });
  assert.deepEqual(
    [light?.input, light?.output, light?.customStatus, light?.name],
    [null, null, '"half"', "work"],
  );
  const [full] = await hub.listInstances({ instanceIdPrefix: "w-", limit: 1 });
  assert.deepEqual([full?.input, full?.output], ['{"big":"input"}', '"out"']);
});
