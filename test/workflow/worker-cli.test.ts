import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

import { OrchestrationStatus } from "@microsoft/durabletask-js";

import { silentLogger } from "../../src/logger.js";
import { hubConnection } from "../../src/workflow/connection.js";
import type { FullBatchResult } from "../../src/workflow/types.js";
import { createClient } from "../../src/workflow/worker.js";
import { deferrer, startHub, tempDir } from "../hub/helpers.js";
import { FAKE_JOB, fakeMedia } from "../runners/helpers.js";
import { fastOptions } from "./helpers.js";
import { CLI as cli } from "../support/cli.js";

/** `durascribe worker` as a child process; resolves once it has started. */
async function spawnWorker(
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; exited: Promise<number | string> }> {
  const proc = spawn(
    process.execPath,
    [cli, "worker", "--log-level", "error"],
    {
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on("line", (l) => {
      if (/^worker started for /.test(l)) resolve();
    });
    void exited.then((c) =>
      reject(new Error(`worker exited (${c}): ${stderr}`)),
    );
  });
  return { proc, exited };
}

async function setup(t: { after(fn: () => unknown): void }) {
  const defer = deferrer(t);
  const { dir, cleanup } = tempDir();
  defer(cleanup);
  const hub = await startHub();
  defer(() => hub.stop());
  const env = {
    DURABLE_TASK_SCHEDULER_CONNECTION_STRING: `Endpoint=http://${hub.address};Authentication=None;TaskHub=cli`,
    DURASCRIBE_JOB_COMMAND: JSON.stringify(FAKE_JOB),
    DURASCRIBE_EXECUTIONS_DIR: path.join(dir, "executions"),
    DURASCRIBE_MAX_JOBS: "4",
  };
  const client = createClient(
    hubConnection({ endpoint: `http://${hub.address}`, taskHub: "cli" }),
    silentLogger,
  );
  defer(() => client.stop());
  return { dir, env, client, defer };
}

test("durascribe worker runs a batch from a DTS connection string and stops on SIGTERM", async (t) => {
  const { dir, env, client, defer } = await setup(t);
  const worker = await spawnWorker(env);
  defer(() => worker.proc.kill("SIGKILL"));
  const media = fakeMedia(dir, "talk.mp4", { behaviour: "ok" });

  await client.scheduleNewOrchestration(
    "transcribeBatch",
    {
      sources: [media],
      cwd: dir,
      options: fastOptions({ storageAccountUrl: `file:${dir}/out` }),
    },
    "cli-batch",
  );
  const state = await client.waitForOrchestrationCompletion(
    "cli-batch",
    true,
    60,
  );

  assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED);
  const result = JSON.parse(state.serializedOutput!) as FullBatchResult;
  assert.equal(result.results[0]!.status, "succeeded");
  worker.proc.kill("SIGTERM");
  assert.equal(await worker.exited, 0);
});

test("a worker killed mid-batch is replaced, and running jobs are not started again", async (t) => {
  const { dir, env, client, defer } = await setup(t);
  const first = await spawnWorker(env);
  defer(() => first.proc.kill("SIGKILL"));
  const sources = [0, 1, 2].map((i) =>
    fakeMedia(dir, `v${i}.mp4`, { behaviour: "ok", ms: 1500 }),
  );
  await client.scheduleNewOrchestration(
    "transcribeBatch",
    {
      sources,
      cwd: dir,
      options: fastOptions({ storageAccountUrl: `file:${dir}/out` }),
    },
    "kill-batch",
  );
  // Wait until every video has a job execution running.
  for (let i = 0; i < 3; i++) {
    for (;;) {
      const s = await client.getOrchestrationState(`kill-batch/v/${i}`, true);
      if (s?.serializedCustomStatus?.includes("transcribing")) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  first.proc.kill("SIGKILL");
  await first.exited;
  const second = await spawnWorker(env);
  defer(() => second.proc.kill("SIGKILL"));
  const state = await client.waitForOrchestrationCompletion(
    "kill-batch",
    true,
    60,
  );

  const result = JSON.parse(state!.serializedOutput!) as FullBatchResult;
  assert.deepEqual(
    result.results.map((r) => [r.status, r.attempts]),
    [
      ["succeeded", 1],
      ["succeeded", 1],
      ["succeeded", 1],
    ],
  );
  const records = readdirSync(env.DURASCRIBE_EXECUTIONS_DIR).filter((f) =>
    f.endsWith(".json"),
  );
  assert.equal(records.length, 3);
});

test("a bad worker setting exits 2 with a message naming it", async () => {
  const proc = spawn(process.execPath, [cli, "worker", "--runner", "aca"], {
    env: { PATH: process.env.PATH },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise((r) => proc.once("exit", r));

  assert.equal(code, 2);
  assert.match(stderr, /needs --subscription-id \(or SUBSCRIPTION_ID\)/);
});
