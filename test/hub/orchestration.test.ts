import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  OrchestrationStatus,
  RetryPolicy,
  whenAny,
  type ActivityContext,
  type OrchestrationContext,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import {
  eventually,
  sdkClient,
  sdkWorker,
  startHub,
  type TestHub,
} from "./helpers.js";

const attempts = new Map<string, number>();

function flaky(_: ActivityContext, key: string): string {
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  if (n <= 2) throw new Error(`attempt ${n} failed`);
  return `ok after ${n}`;
}

function broken(_: ActivityContext): never {
  throw new Error("the disk is on fire");
}

async function* nested(ctx: OrchestrationContext, depth: number): any {
  if (depth === 0) return "leaf";
  const inner: string = yield ctx.callSubOrchestrator(nested, depth - 1);
  return `${depth}>${inner}`;
}

async function* sleeper(ctx: OrchestrationContext, seconds: number): any {
  const t0 = ctx.currentUtcDateTime.getTime();
  yield ctx.createTimer(seconds);
  return ctx.currentUtcDateTime.getTime() - t0;
}

async function* retrying(ctx: OrchestrationContext, key: string): any {
  const retry = new RetryPolicy({
    maxNumberOfAttempts: 3,
    firstRetryIntervalInMilliseconds: 50,
  });
  return yield ctx.callActivity(flaky, key, { retry });
}

async function* failing(ctx: OrchestrationContext): any {
  return yield ctx.callActivity(broken);
}

async function* approval(ctx: OrchestrationContext, seconds: number): any {
  const event = ctx.waitForExternalEvent("approve");
  const timer = ctx.createTimer(seconds);
  const winner = yield whenAny([event, timer]);
  return winner === event ? `approved:${event.getResult()}` : "timed out";
}

async function* waitsForGo(ctx: OrchestrationContext): any {
  ctx.setCustomStatus({ phase: "waiting" });
  const value: string = yield ctx.waitForExternalEvent("go");
  return `got ${value}`;
}

async function* parentOfWaiter(ctx: OrchestrationContext): any {
  return yield ctx.callSubOrchestrator(waitsForGo, undefined, {
    instanceId: `${ctx.instanceId}-child`,
  });
}

async function* counter(ctx: OrchestrationContext, n: number): any {
  if (n < 5) {
    yield ctx.createTimer(0.01);
    ctx.continueAsNew(n + 1, false);
    return;
  }
  return n;
}

async function* sender(ctx: OrchestrationContext, target: string): any {
  ctx.sendEvent(target, "go", "from a friend");
  return "sent";
}

let hub: TestHub;
let worker: TaskHubGrpcWorker;
let client: TaskHubGrpcClient;

before(async () => {
  hub = await startHub();
  worker = await sdkWorker(hub.address, (w) => {
    for (const o of [
      nested,
      sleeper,
      retrying,
      failing,
      approval,
      waitsForGo,
      parentOfWaiter,
      counter,
      sender,
    ]) {
      w.addOrchestrator(o);
    }
    w.addActivity(flaky);
    w.addActivity(broken);
  });
  client = sdkClient(hub.address);
});

after(async () => {
  await worker.stop();
  await client.stop();
  await hub.stop();
});

async function run(orchestrator: any, input?: unknown) {
  const id = await client.scheduleNewOrchestration(orchestrator, input);
  const state = await client.waitForOrchestrationCompletion(id, true, 30);
  assert.ok(state, `instance ${id} vanished`);
  return { id, state };
}

async function statusOf(id: string) {
  return (await client.getOrchestrationState(id, true))?.runtimeStatus;
}

test("sub-orchestrations three levels deep return through every parent", async () => {
  const { state } = await run(nested, 3);
  assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(JSON.parse(state.serializedOutput!), "3>2>1>leaf");
});

test("a durable timer delays the orchestration by its duration", async () => {
  const started = Date.now();
  const { state } = await run(sleeper, 1);
  const elapsed = JSON.parse(state.serializedOutput!) as number;
  assert.ok(elapsed >= 1000, `orchestration time advanced only ${elapsed} ms`);
  assert.ok(Date.now() - started >= 1000);
});

test("a retry policy retries an activity that fails twice, then succeeds", async () => {
  const { state } = await run(retrying, "retry-1");
  assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(JSON.parse(state.serializedOutput!), "ok after 3");
  assert.equal(attempts.get("retry-1"), 3);
});

test("an activity that always fails fails the orchestration with its message", async () => {
  const { state } = await run(failing);
  assert.equal(state.runtimeStatus, OrchestrationStatus.FAILED);
  assert.match(state.failureDetails?.message ?? "", /the disk is on fire/);
});

test("whenAny of an event and a timer takes the event when it comes first", async () => {
  const id = await client.scheduleNewOrchestration(approval, 30);
  await client.waitForOrchestrationStart(id);
  await client.raiseOrchestrationEvent(id, "approve", "yes");
  const state = await client.waitForOrchestrationCompletion(id, true, 30);
  assert.equal(JSON.parse(state!.serializedOutput!), "approved:yes");
});

test("whenAny of an event and a timer takes the timer when no event comes", async () => {
  const { state } = await run(approval, 0.3);
  assert.equal(JSON.parse(state.serializedOutput!), "timed out");
});

test("a suspended instance holds events until it is resumed", async () => {
  const id = await client.scheduleNewOrchestration(waitsForGo);
  await client.waitForOrchestrationStart(id);
  await client.suspendOrchestration(id);
  await eventually(
    async () =>
      (await statusOf(id)) === OrchestrationStatus.SUSPENDED ? true : undefined,
    "SUSPENDED",
  );
  await client.raiseOrchestrationEvent(id, "go", "now");
  // The event is delivered, yet the suspended orchestration must not finish.
  await eventually(async () => {
    const history = await client.getOrchestrationHistory(id);
    return history.some((e) => e.type === "EventRaised") ? true : undefined;
  }, "the event in history");
  assert.equal(await statusOf(id), OrchestrationStatus.SUSPENDED);

  await client.resumeOrchestration(id);
  const state = await client.waitForOrchestrationCompletion(id, true, 30);
  assert.equal(state!.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(JSON.parse(state!.serializedOutput!), "got now");
});

test("a recursive terminate ends the instance and its sub-orchestrations", async () => {
  const id = await client.scheduleNewOrchestration(parentOfWaiter);
  const child = `${id}-child`;
  await eventually(
    async () =>
      (await statusOf(child)) === OrchestrationStatus.RUNNING
        ? true
        : undefined,
    "the child to run",
  );
  const { terminateOptions } = await import("@microsoft/durabletask-js");
  await client.terminateOrchestration(
    id,
    terminateOptions({ output: "stop", recursive: true }),
  );
  const parent = await client.waitForOrchestrationCompletion(id, true, 30);
  const sub = await client.waitForOrchestrationCompletion(child, true, 30);
  assert.equal(parent!.runtimeStatus, OrchestrationStatus.TERMINATED);
  assert.equal(sub!.runtimeStatus, OrchestrationStatus.TERMINATED);
});

test("continue-as-new restarts with new input and drops the old history", async () => {
  const { id, state } = await run(counter, 0);
  assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(JSON.parse(state.serializedOutput!), 5);
  const history = await client.getOrchestrationHistory(id);
  const starts = history.filter((e) => e.type === "ExecutionStarted");
  assert.equal(starts.length, 1, "only the last execution's history is kept");
});

test("an orchestration can send an event to another instance", async () => {
  const target = await client.scheduleNewOrchestration(waitsForGo);
  await client.waitForOrchestrationStart(target);
  const { state } = await run(sender, target);
  assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED);
  const received = await client.waitForOrchestrationCompletion(
    target,
    true,
    30,
  );
  assert.equal(JSON.parse(received!.serializedOutput!), "got from a friend");
});

test("custom status set by the orchestrator is visible to clients", async () => {
  const id = await client.scheduleNewOrchestration(waitsForGo);
  const status = await eventually(async () => {
    const s = await client.getOrchestrationState(id, true);
    return s?.serializedCustomStatus;
  }, "custom status");
  assert.deepEqual(JSON.parse(status), { phase: "waiting" });
  await client.raiseOrchestrationEvent(id, "go", "x");
  await client.waitForOrchestrationCompletion(id, false, 30);
});
