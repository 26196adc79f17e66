import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OrchestrationStatus,
  whenAll,
  type ActivityContext,
  type OrchestrationContext,
  type TOrchestrator,
} from "@microsoft/durabletask-js";
import { sdkClient, sdkWorker, startHub } from "./helpers.js";

const double = (_: ActivityContext, i: number): number => i * 2;

const fanOut: TOrchestrator = async function* (
  ctx: OrchestrationContext,
  n: number,
): any {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ctx.callActivity(double, i));
  const results: number[] = yield whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
};

test("a fan-out of 500 activities fans in the exact sum", async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  const worker = await sdkWorker(hub.address, (w) => {
    w.addOrchestrator(fanOut);
    w.addActivity(double);
  });
  t.after(() => worker.stop());
  const client = sdkClient(hub.address);
  t.after(() => client.stop());

  const id = await client.scheduleNewOrchestration(fanOut, 500);
  const state = await client.waitForOrchestrationCompletion(id, true, 60);

  assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(JSON.parse(state.serializedOutput!), 500 * 499);
});
