import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { OrchestrationStatus } from "@microsoft/durabletask-js";

import { LocalRunner } from "../../src/runners/local.js";
import { executionName } from "../../src/runners/names.js";
import type {
  BatchInput,
  FullBatchResult,
  BatchStatus,
  VideoResult,
  VideoStatus,
} from "../../src/workflow/types.js";
import { tempDir } from "../hub/helpers.js";
import { FAKE_JOB, fakeMedia } from "../runners/helpers.js";
import { fastOptions, startWorkflow, type Workflow } from "./helpers.js";

type T = { after(fn: () => unknown): void };

// One hub, worker and runner for the file (stopping an SDK worker takes
// two seconds); each test has its own folder and batch id.
let shared: { wf: Workflow; runner: LocalRunner; cleanup: () => void };

before(async () => {
  const { dir, cleanup } = tempDir();
  const runner = await LocalRunner.open({
    dir: path.join(dir, "executions"),
    maxConcurrent: 8,
    command: FAKE_JOB,
    baseEnv: { PATH: process.env.PATH },
  });
  shared = { wf: await startWorkflow(runner), runner, cleanup };
});

after(async () => {
  await shared.runner.close({ stopRunning: true });
  await shared.wf.stop();
  shared.cleanup();
});

let batches = 0;

function setup(t: T) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const out = path.join(dir, "out");
  const id = `batch${++batches}`;
  return {
    dir,
    id,
    runner: shared.runner,
    wf: shared.wf,
    out,
    storage: `file:${out}`,
  };
}

async function runBatch(
  wf: Workflow,
  id: string,
  input: BatchInput,
): Promise<FullBatchResult> {
  await wf.client.scheduleNewOrchestration("transcribeBatch", input, id);
  const state = await wf.client.waitForOrchestrationCompletion(id, true, 60);
  assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED);
  return JSON.parse(state.serializedOutput!) as FullBatchResult;
}

test("each source gets one result in order, and a failed video does not fail the batch", async (t) => {
  const { dir, id, wf, out, storage } = setup(t);
  const ok = fakeMedia(dir, "good talk.mp4", { behaviour: "ok" });
  const bad = fakeMedia(dir, "silent.mp4", { behaviour: "permanent" });

  const result = await runBatch(wf, id, {
    sources: [ok, bad, "missing.mp4"],
    cwd: dir,
    options: fastOptions({ storageAccountUrl: storage }),
  });

  assert.deepEqual([result.total, result.succeeded, result.failed], [3, 1, 2]);
  const [a, b, c] = result.results as [VideoResult, VideoResult, VideoResult];
  assert.equal(a.status, "succeeded");
  assert.equal(a.title, "good talk");
  assert.equal(a.transcripts.srt, path.join(out, "videos", "good-talk.srt"));
  assert.equal(a.manifest, path.join(out, "videos", "good-talk.manifest.json"));
  assert.equal(a.language, "en");
  assert.equal(a.audioSeconds, 12.5);
  assert.ok(existsSync(a.transcripts.txt!));
  assert.deepEqual(
    [b.status, b.errorCode, b.attempts],
    ["failed", "E_MEDIA_NO_AUDIO", 1],
  );
  assert.match(b.error!, /no audio stream/);
  assert.deepEqual(
    [c.status, c.errorCode, c.attempts],
    ["failed", "E_SOURCE_NOT_FOUND", 0],
  );
});

test("video instances are named <batchId>/v/<index> and end with their result and status", async (t) => {
  const { dir, id, wf, storage } = setup(t);
  const ok = fakeMedia(dir, "a.mp4", { behaviour: "ok" });

  await runBatch(wf, id, {
    sources: [ok],
    cwd: dir,
    options: fastOptions({ storageAccountUrl: storage }),
  });
  const video = await wf.client.getOrchestrationState(`${id}/v/0`, true);

  assert.equal(video?.name, "transcribeVideo");
  const result = JSON.parse(video.serializedOutput!) as VideoResult;
  assert.equal(result.status, "succeeded");
  const status = JSON.parse(video.serializedCustomStatus!) as VideoStatus;
  assert.deepEqual(status, { phase: "done", attempt: 1, progress: 1 });
});

test("the batch's custom status counts succeeded, failed and running", async (t) => {
  const { dir, id, wf, storage } = setup(t);
  const ok = fakeMedia(dir, "a.mp4", { behaviour: "ok" });
  const bad = fakeMedia(dir, "b.mp4", { behaviour: "permanent" });

  await runBatch(wf, id, {
    sources: [ok, bad],
    cwd: dir,
    options: fastOptions({ storageAccountUrl: storage }),
  });
  const state = await wf.client.getOrchestrationState(id, true);

  const status = JSON.parse(state!.serializedCustomStatus!) as BatchStatus;
  assert.deepEqual(status, { total: 2, succeeded: 1, failed: 1, running: 0 });
});

test("a transient failure is retried and the retry's result is the video's", async (t) => {
  const { dir, id, wf, storage } = setup(t);
  const flaky = fakeMedia(dir, "flaky.mp4", {
    behaviour: "flaky",
    failFirst: 2,
  });

  const { results } = await runBatch(wf, id, {
    sources: [flaky],
    cwd: dir,
    options: fastOptions({ storageAccountUrl: storage }, { retries: 3 }),
  });

  assert.deepEqual(
    [results[0]!.status, results[0]!.attempts],
    ["succeeded", 3],
  );
});

test("transient failures end as failed once the retries are spent", async (t) => {
  const { dir, id, wf, storage } = setup(t);
  const down = fakeMedia(dir, "down.mp4", { behaviour: "transient" });
  const crash = fakeMedia(dir, "crash.mp4", { behaviour: "crash" });

  const { results } = await runBatch(wf, id, {
    sources: [down, crash],
    cwd: dir,
    options: fastOptions({ storageAccountUrl: storage }, { retries: 2 }),
  });

  assert.deepEqual(
    results.map((r) => [r.status, r.errorCode, r.attempts]),
    [
      ["failed", "E_FETCH_STATUS", 3],
      ["failed", "E_JOB_EXIT_1", 3],
    ],
  );
});

test("a stuck job execution is failed at the per-video timeout and stopped on the runner", async (t) => {
  const { dir, id, wf, runner, storage } = setup(t);
  const stuck = fakeMedia(dir, "stuck.mp4", { behaviour: "hang" });

  const { results } = await runBatch(wf, id, {
    sources: [stuck],
    cwd: dir,
    options: fastOptions({ storageAccountUrl: storage }, { timeoutSeconds: 1 }),
  });

  const r = results[0]!;
  assert.deepEqual(
    [r.status, r.errorCode, r.attempts],
    ["failed", "E_TIMEOUT", 1],
  );
  const execution = executionName(`${id}/v/0#1`, 100);
  assert.equal((await runner.status(execution)).state, "Stopped");
});

test("a video that polls past its limit continues as new and still finishes", async (t) => {
  const { dir, id, wf, storage } = setup(t);
  const slow = fakeMedia(dir, "slow.mp4", { behaviour: "ok", ms: 1500 });

  const { results } = await runBatch(wf, id, {
    sources: [slow],
    cwd: dir,
    options: fastOptions(
      { storageAccountUrl: storage },
      { maxPollsPerExecution: 3, maxPollSeconds: 0.1 },
    ),
  });
  const history = await wf.client.getOrchestrationHistory(`${id}/v/0`);

  assert.deepEqual(
    [results[0]!.status, results[0]!.attempts],
    ["succeeded", 1],
  );
  // The last execution's history only: a few polls, not the whole run.
  assert.ok(history.length < 30, `history of ${history.length} events`);
});

test("no more job executions overlap than the batch's concurrency", async (t) => {
  const { dir, id, wf, storage } = setup(t);
  const sources = Array.from({ length: 6 }, (_, i) =>
    fakeMedia(dir, `v${i}.mp4`, { behaviour: "ok", ms: 300 }),
  );

  const result = await runBatch(wf, id, {
    sources,
    cwd: dir,
    options: fastOptions({ storageAccountUrl: storage }, { concurrency: 2 }),
  });

  assert.equal(result.succeeded, 6);
  // Each fake job's manifest records when it started and finished.
  const spans = result.results.map((r) => {
    const m = JSON.parse(readFileSync(r.manifest!, "utf8"));
    return [Date.parse(m.startedAt), Date.parse(m.finishedAt)] as const;
  });
  const overlap = (at: number) =>
    spans.filter(([s, e]) => s <= at && at < e).length;
  const peak = Math.max(...spans.map(([s]) => overlap(s)));
  assert.equal(peak, 2);
});

test("time queued on the runner does not count toward the timeout", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const runner = await LocalRunner.open({
    dir: path.join(dir, "executions"),
    maxConcurrent: 1,
    command: FAKE_JOB,
    baseEnv: { PATH: process.env.PATH },
  });
  t.after(() => runner.close({ stopRunning: true }));
  const wf = await startWorkflow(runner);
  t.after(() => wf.stop());
  // One at a time: the third waits about 3 s, longer than the timeout.
  const sources = [1, 2, 3].map((i) =>
    fakeMedia(dir, `q${i}.mp4`, { behaviour: "ok", ms: 1500 }),
  );

  const { results } = await runBatch(wf, "queued", {
    sources,
    cwd: dir,
    options: fastOptions(
      { storageAccountUrl: `file:${dir}/out` },
      { timeoutSeconds: 2.5, concurrency: 3 },
    ),
  });

  assert.deepEqual(
    results.map((r) => r.status),
    ["succeeded", "succeeded", "succeeded"],
  );
});
