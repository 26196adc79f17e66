import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { AcaRunner, KEY_VARIABLE } from "../../src/runners/aca.js";
import { ConfigError } from "../../src/errors.js";
import {
  ARM,
  startArmServer,
  testCredential,
  type ArmServer,
} from "./arm-server.js";

let arm: ArmServer;

before(async () => {
  arm = await startArmServer();
});

after(() => arm.close());

function runner(
  overrides: Partial<ConstructorParameters<typeof AcaRunner>[0]> = {},
) {
  const credential = testCredential();
  const r = new AcaRunner({
    subscriptionId: ARM.subscription,
    resourceGroup: ARM.group,
    jobName: ARM.job,
    credential,
    endpoint: arm.url,
    agent: arm.agent,
    pollIntervalMs: 10,
    ...overrides,
  });
  return { r, credential };
}

const env = {
  VIDEO_URL: "https://cdn.example/DEM520.mp4",
  STORAGE_BLOB_NAME: "DEM520",
  DURASCRIBE_MODEL: "tiny.en",
};

test("start reads the job template and starts an execution with the spec's environment over it", async () => {
  const { r, credential } = runner();
  const from = arm.requests.length;

  const name = await r.start({ key: "batch/v/0#1", env });

  const sent = arm.requests.slice(from);
  const start = sent.find((q) => q.method === "POST")!;
  assert.equal(
    start.path,
    `/subscriptions/${ARM.subscription}/resourceGroups/${ARM.group}/providers/Microsoft.App/jobs/${ARM.job}/start`,
  );
  assert.ok(start.query.get("api-version"));
  const [container] = (start.body as any).containers;
  assert.equal(container.name, "durascribe");
  assert.equal(container.image, "example.azurecr.io/durascribe:1.0");
  assert.deepEqual(container.resources, { cpu: 2, memory: "4Gi" });
  const vars = Object.fromEntries(
    container.env.map((v: any) => [v.name, v.value ?? `secret:${v.secretRef}`]),
  );
  assert.deepEqual(vars, {
    STORAGE_ACCOUNT_URL: "https://acct.blob.core.windows.net",
    AZURE_CLIENT_ID: "secret:client-id",
    VIDEO_URL: env.VIDEO_URL,
    STORAGE_BLOB_NAME: "DEM520",
    DURASCRIBE_MODEL: "tiny.en",
    [KEY_VARIABLE]: "batch/v/0#1",
  });
  assert.match(name, new RegExp(`^${ARM.job}-`));
  assert.deepEqual(credential.scopes[0], [`${arm.url}/.default`]);
});

test("start follows the long-running operation to its result", async () => {
  const { r } = runner();
  arm.inProgressPolls = 2;
  const from = arm.requests.length;

  const name = await r.start({ key: "lro#1", env });

  const polls = arm.requests
    .slice(from)
    .filter((q) => q.path.includes("containerappsjobOperationStatuses"));
  const results = arm.requests
    .slice(from)
    .filter((q) => q.path.includes("containerappsjobOperationResults"));
  assert.equal(polls.length, 3);
  assert.equal(results.length, 1);
  assert.equal((await r.status(name)).state, "Running");
  arm.inProgressPolls = 1;
});

test("starting the same key again returns the execution already started", async () => {
  const { r } = runner();
  const first = await r.start({ key: "twice#1", env });
  const from = arm.requests.length;

  const second = await r.start({ key: "twice#1", env });

  assert.equal(second, first);
  assert.ok(!arm.requests.slice(from).some((q) => q.method === "POST"));
});

test("status maps the execution's properties.status, and an unknown name is Unknown", async () => {
  const { r } = runner();
  const name = await r.start({ key: "states#1", env });
  assert.ok(Date.parse((await r.status(name)).startedAt!) <= Date.now());

  for (const s of [
    "Processing",
    "Running",
    "Succeeded",
    "Failed",
    "Degraded",
  ]) {
    arm.statuses.set(name, s);
    assert.equal((await r.status(name)).state, s);
  }
  assert.deepEqual(await r.status("no-such-execution"), { state: "Unknown" });
});

test("stop posts to the execution's stop action", async () => {
  const { r } = runner();
  const name = await r.start({ key: "stop#1", env });
  const from = arm.requests.length;

  await r.stop(name);

  const stop = arm.requests.slice(from).find((q) => q.method === "POST")!;
  assert.equal(stop.method, "POST");
  assert.match(stop.path, new RegExp(`/executions/${name}/stop$`));
  assert.equal((await r.status(name)).state, "Stopped");
});

test("a job that does not exist is a permanent configuration error", async () => {
  const { r } = runner({ jobName: "no-such-job" });

  await assert.rejects(r.start({ key: "x#1", env }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /no-such-job/);
    return true;
  });
});

test("a refused credential is a permanent configuration error", async () => {
  const { r } = runner({ credential: testCredential("wrong") });

  await assert.rejects(r.start({ key: "x#1", env }), ConfigError);
});

test("a container name the template lacks is a configuration error naming the containers", async () => {
  const { r } = runner({ container: "whisper" });

  await assert.rejects(
    r.start({ key: "c#1", env }),
    /no container named "whisper"; its containers are durascribe/,
  );
});
