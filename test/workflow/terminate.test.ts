import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

import {
  OrchestrationStatus,
  terminateOptions,
} from "@microsoft/durabletask-js";

import { silentLogger } from "../../src/logger.js";
import { LocalRunner } from "../../src/runners/local.js";
import { executionName } from "../../src/runners/names.js";
import { ExecutionWatch, startWatch } from "../../src/workflow/watch.js";
import { tempDir } from "../hub/helpers.js";
import { FAKE_JOB, fakeMedia, waitForState } from "../runners/helpers.js";
import { fastOptions, startWorkflow, type Workflow } from "./helpers.js";

// A real local runner whose jobs hang until signalled, and a worker whose
// watch sweeps every 50 ms.
let dir: string;
let cleanup: () => void;
let runner: LocalRunner;
let watch: ExecutionWatch;
let wf: Workflow;

before(async () => {
  ({ dir, cleanup } = tempDir());
  runner = await LocalRunner.open({
    dir: path.join(dir, "executions"),
    maxConcurrent: 8,
    command: FAKE_JOB,
    baseEnv: { PATH: process.env.PATH },
  });
  watch = new ExecutionWatch({
    runner,
    logger: silentLogger,
    intervalMs: 50,
    lookup: async (id) =>
      (await wf.client.getOrchestrationState(id, false))?.runtimeStatus,
  });
  wf = await startWorkflow(runner, { watch });
});

after(async () => {
  await watch.close();
  await runner.close({ stopRunning: true });
  await wf.stop();
  cleanup();
});

async function startHanging(id: string, n: number): Promise<string[]> {
  const sources = Array.from({ length: n }, (_, i) =>
    fakeMedia(dir, `${id}-${i}.mp4`, { behaviour: "hang" }),
  );
  await wf.client.scheduleNewOrchestration(
    "transcribeBatch",
    {
      sources,
      cwd: dir,
      options: fastOptions({ storageAccountUrl: `file:${dir}/out` }),
    },
    id,
  );
  const names = sources.map((_, i) => executionName(`${id}/v/${i}#1`, 100));
  for (const name of names) await waitForState(runner, name, ["Running"]);
  return names;
}

/** The job's process id, from the runner's record. */
function pidOf(name: string): number {
  const file = path.join(dir, "executions", `${name}.json`);
  return (JSON.parse(readFileSync(file, "utf8")) as { pid: number }).pid;
}

/** Resolves once process `pid` has gone; polls: it is not our child. */
async function gone(pid: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("terminating a batch stops the job executions its videos had running", async () => {
  const names = await startHanging("term", 2);
  const pids = names.map(pidOf);

  await wf.client.terminateOrchestration(
    "term",
    terminateOptions({ recursive: true, output: "enough" }),
  );

  for (const name of names) await waitForState(runner, name, ["Stopped"]);
  for (const pid of pids) await gone(pid);
  assert.equal(watch.size, 0);
});

test("a suspended video keeps its job execution running", async () => {
  const [name] = await startHanging("susp", 1);

  await wf.client.suspendOrchestration("susp/v/0");
  // The hub suspends it with its next work item; no call waits for that.
  while (
    (await wf.client.getOrchestrationState("susp/v/0"))?.runtimeStatus !==
    OrchestrationStatus.SUSPENDED
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await watch.sweep();

  assert.equal((await runner.status(name!)).state, "Running");
  await wf.client.terminateOrchestration(
    "susp",
    terminateOptions({ recursive: true }),
  );
  await waitForState(runner, name!, ["Stopped"]);
});

test("a purged video's job execution is stopped", async () => {
  const [name] = await startHanging("purge", 1);

  // Terminated without its children, then purged: the video is gone.
  await wf.client.terminateOrchestration("purge");
  await wf.client.terminateOrchestration("purge/v/0");
  await wf.client.purgeOrchestration("purge/v/0");

  await waitForState(runner, name!, ["Stopped"]);
});

test("a new watch adopts the runner's unfinished executions and stops those whose orchestration ended", async () => {
  // Executions outlive the watch that saw them start, as when a worker
  // stops: another runner folder holds one for the terminated "term/v/0",
  // one for the purged "purge/v/0" and one for the running "live/v/0".
  await startHanging("live", 1);
  const fresh = tempDir();
  const other = await LocalRunner.open({
    dir: path.join(fresh.dir, "executions"),
    maxConcurrent: 8,
    command: FAKE_JOB,
    baseEnv: { PATH: process.env.PATH },
  });
  try {
    const names: string[] = [];
    for (const key of ["term/v/0#2", "purge/v/0#2", "live/v/0#2"]) {
      const media = fakeMedia(fresh.dir, `${names.length}.mp4`, {
        behaviour: "hang",
      });
      names.push(await other.start({ key, env: { VIDEO_URL: media } }));
    }
    for (const name of names) await waitForState(other, name, ["Running"]);
    assert.deepEqual((await other.unfinished()).map((u) => u.key).sort(), [
      "live/v/0#2",
      "purge/v/0#2",
      "term/v/0#2",
    ]);

    const adopted = await startWatch(other, wf.client, silentLogger, 60_000);

    assert.deepEqual(
      await Promise.all(names.map(async (n) => (await other.status(n)).state)),
      ["Stopped", "Stopped", "Running"],
    );
    assert.equal(adopted.size, 1);
    await adopted.close();
  } finally {
    await other.close({ stopRunning: true });
    fresh.cleanup();
    await wf.client.terminateOrchestration(
      "live",
      terminateOptions({ recursive: true }),
    );
  }
});
