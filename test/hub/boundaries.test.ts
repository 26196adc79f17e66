import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import {
  OrchestrationStatus,
  type OrchestrationContext,
} from "@microsoft/durabletask-js";
import { grpcPb, pb, stringValue } from "../../src/hub/protocol.js";
import {
  metadata,
  sdkClient,
  sdkWorker,
  startHub,
  type TestHub,
} from "./helpers.js";

async function* echo(_: OrchestrationContext, input: unknown): any {
  return input;
}

let hub: TestHub;
let raw: InstanceType<typeof grpcPb.TaskHubSidecarServiceClient>;

before(async () => {
  hub = await startHub();
  raw = new grpcPb.TaskHubSidecarServiceClient(
    hub.address,
    grpc.credentials.createInsecure(),
  );
});

after(async () => {
  raw.close();
  await hub.stop();
});

/** Calls a unary method of the raw client; resolves the error or response. */
function call<Req>(
  method: string,
  req: Req,
  md = new grpc.Metadata(),
): Promise<{ err: grpc.ServiceError | null; res: any }> {
  return new Promise((resolve) => {
    (raw as any)[method](
      req,
      md,
      (err: grpc.ServiceError | null, res: unknown) => resolve({ err, res }),
    );
  });
}

function startRequest(id: string, name = "echo", input = '"x"') {
  const req = new pb.CreateInstanceRequest();
  req.setInstanceid(id);
  req.setName(name);
  req.setInput(stringValue(input));
  return req;
}

test("a start without an instance id is refused naming the field", async () => {
  const { err } = await call("startInstance", startRequest(""));
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /instanceId: is required/);
});

test("a start without a name is refused naming the field", async () => {
  const { err } = await call("startInstance", startRequest("no-name", ""));
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /name: is required/);
});

test("calls on an unknown instance id get NOT_FOUND", async () => {
  const raise = new pb.RaiseEventRequest();
  raise.setInstanceid("ghost");
  raise.setName("e");
  const terminate = new pb.TerminateRequest();
  terminate.setInstanceid("ghost");
  const suspend = new pb.SuspendRequest();
  suspend.setInstanceid("ghost");
  const wait = new pb.GetInstanceRequest();
  wait.setInstanceid("ghost");
  for (const [method, req] of [
    ["raiseEvent", raise],
    ["terminateInstance", terminate],
    ["suspendInstance", suspend],
    ["waitForInstanceCompletion", wait],
  ] as const) {
    const { err } = await call(method, req);
    assert.equal(err?.code, grpc.status.NOT_FOUND, method);
    assert.match(err.details, /no instance "ghost" in task hub "default"/);
  }
});

test("a query page size over the limit is refused naming the field", async () => {
  const req = new pb.QueryInstancesRequest();
  const q = new pb.InstanceQuery();
  q.setMaxinstancecount(5000);
  req.setQuery(q);
  const { err } = await call("queryInstances", req);
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /query\.maxInstanceCount/);
});

test("a continuation token the hub did not issue is refused", async () => {
  const req = new pb.QueryInstancesRequest();
  const q = new pb.InstanceQuery();
  q.setContinuationtoken(stringValue("not a token!"));
  req.setQuery(q);
  const { err } = await call("queryInstances", req);
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /continuationToken/);
});

test("an invalid task hub name is refused", async () => {
  const { err } = await call(
    "hello",
    new (await import("../../src/hub/protocol.js")).Empty(),
    await metadata("bad name!")(),
  );
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /not a valid task hub name/);
});

test("calls not built yet answer UNIMPLEMENTED at once", async () => {
  const rewind = new pb.RewindInstanceRequest();
  rewind.setInstanceid("x");
  const signal = new pb.SignalEntityRequest();
  signal.setInstanceid("@counter@1");
  for (const [method, req] of [
    ["rewindInstance", rewind],
    ["signalEntity", signal],
    ["restartInstance", new pb.RestartInstanceRequest()],
  ] as const) {
    const { err } = await call(method, req);
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED, method);
    assert.match(err.details, /not supported by this durascribe hub yet/);
  }
});

test("a completion with an unknown token is refused and changes nothing", async () => {
  const res = new pb.ActivityResponse();
  res.setInstanceid("ghost");
  res.setTaskid(1);
  res.setCompletiontoken("made-up");
  const { err } = await call("completeActivityTask", res);
  assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
  assert.match(err.details, /the result was not recorded/);
});

test("a completion after the lock moved on is refused, and the instance still completes", async () => {
  const { err: startErr } = await call(
    "startInstance",
    startRequest("stale-1"),
  );
  assert.equal(startErr, null);

  // Take the work item as a hand-made worker, then drop the stream.
  const stream = raw.getWorkItems(
    new pb.GetWorkItemsRequest(),
    new grpc.Metadata(),
  );
  const item = await new Promise<any>((resolve) =>
    stream.on("data", (w: any) => {
      if (w.hasOrchestratorrequest()) resolve(w);
    }),
  );
  stream.cancel();
  stream.on("error", () => {});
  const token: string = item.getCompletiontoken();

  const worker = await sdkWorker(hub.address, (w) => w.addOrchestrator(echo));
  const client = sdkClient(hub.address);
  try {
    const done = await client.waitForOrchestrationCompletion(
      "stale-1",
      true,
      30,
    );
    assert.equal(done?.runtimeStatus, OrchestrationStatus.COMPLETED);

    const late = new pb.OrchestratorResponse();
    late.setInstanceid("stale-1");
    late.setCompletiontoken(token);
    const { err } = await call("completeOrchestratorTask", late);
    assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
    const after = await client.getOrchestrationState("stale-1", true);
    assert.equal(after?.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.equal(JSON.parse(after.serializedOutput!), "x");
  } finally {
    await worker.stop();
    await client.stop();
  }
});

test("a payload over the gRPC limit gets a clear error and the hub keeps serving", async () => {
  const big = JSON.stringify("x".repeat(5 * 1024 * 1024));
  const { err } = await call(
    "startInstance",
    startRequest("too-big", "echo", big),
  );
  assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(err.details, /larger than max/);

  const { err: ok } = await call("startInstance", startRequest("after-big"));
  assert.equal(ok, null);
  const get = new pb.GetInstanceRequest();
  get.setInstanceid("after-big");
  const { res } = await call("getInstance", get);
  assert.equal(res.getExists(), true);
});

test("two task hubs are isolated from each other", async () => {
  const alpha = sdkClient(hub.address, { taskhub: "alpha" });
  const beta = sdkClient(hub.address, { taskhub: "beta" });
  const alphaWorker = await sdkWorker(
    hub.address,
    (w) => w.addOrchestrator(echo),
    {
      taskhub: "alpha",
    },
  );
  try {
    await alpha.scheduleNewOrchestration(echo, "from alpha", "shared-id");
    await beta.scheduleNewOrchestration(echo, "from beta", "shared-id");
    const a = await alpha.waitForOrchestrationCompletion("shared-id", true, 30);
    assert.equal(JSON.parse(a!.serializedOutput!), "from alpha");

    // No worker serves beta: its instance with the same id stays pending.
    const b = await beta.getOrchestrationState("shared-id", true);
    assert.equal(b?.runtimeStatus, OrchestrationStatus.PENDING);
    assert.equal(JSON.parse(b.serializedInput!), "from beta");
    const listed = [];
    for await (const s of beta.getAllInstances()) listed.push(s.instanceId);
    assert.deepEqual(listed, ["shared-id"]);
  } finally {
    await alphaWorker.stop();
    await alpha.stop();
    await beta.stop();
  }
});

test("with a token, calls without it or with a wrong one are UNAUTHENTICATED", async () => {
  const secured = await startHub({ token: "s3cret" });
  const anonymous = sdkClient(secured.address);
  const wrong = sdkClient(secured.address, { token: "guess" });
  const right = sdkClient(secured.address, { token: "s3cret" });
  const worker = await sdkWorker(
    secured.address,
    (w) => w.addOrchestrator(echo),
    {
      token: "s3cret",
    },
  );
  try {
    await assert.rejects(
      anonymous.scheduleNewOrchestration(echo, 1),
      (err: any) => err.code === grpc.status.UNAUTHENTICATED,
    );
    await assert.rejects(
      wrong.getOrchestrationState("x"),
      (err: any) => err.code === grpc.status.UNAUTHENTICATED,
    );
    const id = await right.scheduleNewOrchestration(echo, "authorized");
    const s = await right.waitForOrchestrationCompletion(id, true, 30);
    assert.equal(JSON.parse(s!.serializedOutput!), "authorized");
  } finally {
    await worker.stop();
    for (const c of [anonymous, wrong, right]) await c.stop();
    await secured.stop();
  }
});

test("an idle work-item stream receives health pings", async () => {
  const pinging = await startHub({ dispatch: { healthPingMs: 50 } });
  const client = new grpcPb.TaskHubSidecarServiceClient(
    pinging.address,
    grpc.credentials.createInsecure(),
  );
  try {
    const stream = client.getWorkItems(
      new pb.GetWorkItemsRequest(),
      new grpc.Metadata(),
    );
    const item = await new Promise<any>((resolve) =>
      stream.on("data", resolve),
    );
    assert.equal(item.hasHealthping(), true);
    stream.cancel();
    stream.on("error", () => {});
  } finally {
    client.close();
    await pinging.stop();
  }
});
