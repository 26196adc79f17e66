import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OrchestrationStatus,
  whenAll,
  type OrchestrationContext,
} from "@microsoft/durabletask-js";
import { sdkClient, sdkWorker, startHub } from "./helpers.js";
import { spawnNode } from "./process.js";
import { blocking } from "../fixtures/blocking-worker.js";

async function* fanOut(ctx: OrchestrationContext, n: number): any {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ctx.callActivity("work", i));
  const results: string[] = yield whenAll(tasks);
  return results.length;
}

test("several workers share the work and each work item runs at one of them", async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  const runs = { a: 0, b: 0 };
  const seen = new Map<number, number>();
  const record = (who: "a" | "b") => async (_: unknown, i: number) => {
    runs[who]++;
    seen.set(i, (seen.get(i) ?? 0) + 1);
    // Yield so both workers hold work at the same time.
    await new Promise((r) => setImmediate(r));
    return who;
  };
  const a = await sdkWorker(hub.address, (w) => {
    w.addOrchestrator(fanOut);
    w.addNamedActivity("work", record("a"));
  });
  t.after(() => a.stop());
  const b = await sdkWorker(hub.address, (w) => {
    w.addOrchestrator(fanOut);
    w.addNamedActivity("work", record("b"));
  });
  t.after(() => b.stop());
  const client = sdkClient(hub.address);
  t.after(() => client.stop());
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (hub.server.dispatcherOf("default").stats().streams === 2) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });

  const id = await client.scheduleNewOrchestration(fanOut, 200);
  const s = await client.waitForOrchestrationCompletion(id, true, 60);
  assert.equal(JSON.parse(s!.serializedOutput!), 200);
  assert.ok(runs.a > 0 && runs.b > 0, `a ran ${runs.a}, b ran ${runs.b}`);
  assert.equal(runs.a + runs.b, 200);
  assert.ok(
    [...seen.values()].every((n) => n === 1),
    "no activity ran twice",
  );
});

test("when a worker dies during an activity, the work item goes to another worker", async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  const doomed = spawnNode("dist/test/fixtures/blocking-worker.js", [
    hub.address,
  ]);
  t.after(() => doomed.kill("SIGKILL"));
  await doomed.line(/^ready$/);
  const client = sdkClient(hub.address);
  t.after(() => client.stop());

  const id = await client.scheduleNewOrchestration(blocking);
  await doomed.line(/^started "payload"$/);
  const rescuer = await sdkWorker(hub.address, (w) => {
    w.addOrchestrator(blocking);
    w.addNamedActivity(
      "block",
      (_: unknown, input: string) => `rescued ${input}`,
    );
  });
  t.after(() => rescuer.stop());
  doomed.kill("SIGKILL");

  const s = await client.waitForOrchestrationCompletion(id, true, 60);
  assert.equal(s?.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(JSON.parse(s.serializedOutput!), "rescued payload");
});

test("events that arrive while no worker listens go into one work item", async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  const client = sdkClient(hub.address);
  t.after(() => client.stop());

  async function* collect(ctx: OrchestrationContext): any {
    const got: number[] = [];
    for (let i = 0; i < 10; i++) got.push(yield ctx.waitForExternalEvent("n"));
    return got;
  }
  const id = await client.scheduleNewOrchestration(collect);
  for (let i = 0; i < 10; i++) await client.raiseOrchestrationEvent(id, "n", i);

  const worker = await sdkWorker(hub.address, (w) =>
    w.addOrchestrator(collect),
  );
  t.after(() => worker.stop());
  const s = await client.waitForOrchestrationCompletion(id, true, 30);
  assert.deepEqual(
    JSON.parse(s!.serializedOutput!),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  const history = await client.getOrchestrationHistory(id);
  const replays = history.filter(
    (e) => e.type === "OrchestratorStarted",
  ).length;
  assert.equal(
    replays,
    1,
    "one work item handled the start and all ten events",
  );
});
