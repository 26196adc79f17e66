import { test } from "node:test";
import assert from "node:assert/strict";

import * as grpc from "@grpc/grpc-js";
import { OrchestrationStatus } from "@microsoft/durabletask-js";

import { ConfigError } from "../../src/errors.js";
import { Empty, grpcPb } from "../../src/hub/protocol.js";
import { silentLogger } from "../../src/logger.js";
import { BuildApi } from "../../src/sources/build.js";
import {
  DTS_SCOPE,
  connectionFromString,
  hubConnection,
  parseConnectionString,
} from "../../src/workflow/connection.js";
import type { FullBatchResult } from "../../src/workflow/types.js";
import { createClient, createWorker } from "../../src/workflow/worker.js";
import { startHub } from "../hub/helpers.js";
import { testCredential } from "../runners/arm-server.js";
import { InstantRunner } from "../support/instant-runner.js";
import { fastOptions } from "./helpers.js";

const deps = {
  runner: new InstantRunner(),
  build: new BuildApi({ baseUrl: "http://127.0.0.1:9" }),
  logger: silentLogger,
};

test("a connection string gives the endpoint, task hub and authentication, keys in any case", () => {
  assert.deepEqual(
    parseConnectionString(
      "endpoint=https://sched-1.westus2.durabletask.io; TaskHub=hub1;authentication=managedidentity;ClientID=0000-1",
    ),
    {
      endpoint: "https://sched-1.westus2.durabletask.io",
      taskHub: "hub1",
      authentication: "ManagedIdentity",
      clientId: "0000-1",
    },
  );
});

test("a connection string without an endpoint or task hub, or with an unknown authentication, is refused", () => {
  for (const [text, why] of [
    ["TaskHub=x;Authentication=None", /no Endpoint/],
    ["Endpoint=http://localhost:8080;Authentication=None", /no TaskHub/],
    [
      "Endpoint=http://localhost:8080;TaskHub=x;Authentication=Kerberos",
      /Authentication=Kerberos is not supported/,
    ],
    ["Endpoint=ftp://x;TaskHub=x", /must be http/],
  ] as const) {
    assert.throws(
      () => parseConnectionString(text),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, why);
        return true;
      },
    );
  }
});

test("every call carries taskhub, workerid and a bearer token for the Durable Task scope", async (t) => {
  const seen: grpc.Metadata[] = [];
  let streamOpened!: () => void;
  const opened = new Promise<void>((r) => (streamOpened = r));
  const streams: grpc.ServerWritableStream<unknown, unknown>[] = [];
  const server = new grpc.Server();
  server.addService(grpcPb.TaskHubSidecarServiceService, {
    hello: (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      seen.push(call.metadata);
      cb(null, new Empty());
    },
    getWorkItems: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      seen.push(call.metadata);
      streams.push(call);
      streamOpened();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (e, p) => (e ? reject(e) : resolve(p)),
    ),
  );
  t.after(() => server.forceShutdown());
  const credential = testCredential("tok-1");
  const connection = connectionFromString(
    `Endpoint=http://127.0.0.1:${port};Authentication=DefaultAzure;TaskHub=hub1`,
    credential,
  );
  const worker = createWorker({
    connection,
    deps,
    logger: silentLogger,
    shutdownTimeoutMs: 100,
  });
  await worker.start();
  t.after(async () => {
    for (const s of streams) s.end();
    await worker.stop();
  });

  await opened;

  assert.equal(seen.length, 2);
  for (const md of seen) {
    assert.deepEqual(md.get("taskhub"), ["hub1"]);
    assert.deepEqual(md.get("authorization"), ["Bearer tok-1"]);
    assert.match(String(md.get("workerid")[0]), /^.+,\d+,[0-9a-f-]{36}$/);
  }
  assert.deepEqual(credential.scopes, [[DTS_SCOPE]]);
});

test("a hub started with --token serves a worker whose credential gives that token", async (t) => {
  const hub = await startHub({ token: "s3cret" });
  t.after(() => hub.stop());
  const credential = testCredential("s3cret");
  const connection = hubConnection({
    endpoint: `http://${hub.address}`,
    taskHub: "default",
    credential,
  });
  const worker = createWorker({
    connection,
    deps,
    logger: silentLogger,
    shutdownTimeoutMs: 100,
  });
  await worker.start();
  t.after(() => worker.stop());
  const client = createClient(connection, silentLogger);
  t.after(() => client.stop());

  const id = await client.scheduleNewOrchestration("transcribeBatch", {
    sources: ["https://media.example/a.mp4"],
    cwd: "/",
    options: fastOptions({ storageAccountUrl: "file:/data" }),
  });
  const state = await client.waitForOrchestrationCompletion(id, true, 30);

  assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.equal(
    (JSON.parse(state.serializedOutput!) as FullBatchResult).succeeded,
    1,
  );
  // One token served every call: it is reused until near expiry.
  assert.equal(credential.scopes.length, 1);
});

test("a hub started with --token refuses a client whose credential gives another", async (t) => {
  const hub = await startHub({ token: "s3cret" });
  t.after(() => hub.stop());
  const connection = hubConnection({
    endpoint: `http://${hub.address}`,
    taskHub: "default",
    credential: testCredential("wrong"),
  });
  const client = createClient(connection, silentLogger);
  t.after(() => client.stop());

  await assert.rejects(
    client.scheduleNewOrchestration("transcribeBatch", {}),
    (err: unknown) =>
      (err as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED,
  );
});
