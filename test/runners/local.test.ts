import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import { LocalRunner } from "../../src/runners/local.js";
import type { ExecutionStatus } from "../../src/runners/runner.js";
import { tempDir } from "../hub/helpers.js";
import { FAKE_JOB, fakeMedia, jobEnv, waitForState } from "./helpers.js";

async function setup(t: { after(fn: () => unknown): void }, maxConcurrent = 2) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const execDir = path.join(dir, "executions");
  const out = path.join(dir, "out");
  const runner = await LocalRunner.open({
    dir: execDir,
    maxConcurrent,
    command: FAKE_JOB,
    baseEnv: { PATH: process.env.PATH },
    adoptPollMs: 50,
  });
  t.after(() => runner.close({ stopRunning: true }));
  return { dir, execDir, out, runner };
}

test("a job execution that exits 0 is Succeeded and writes its outputs", async (t) => {
  const { dir, out, runner } = await setup(t);
  const media = fakeMedia(dir, "talk.mp4", { behaviour: "ok" });

  const name = await runner.start({ key: "b/v/0#1", env: jobEnv(media, out) });
  const status = await waitForState(runner, name, ["Succeeded", "Failed"]);

  assert.deepEqual(outcome(status), { state: "Succeeded", exitCode: 0 });
  assert.ok(Date.parse(status.startedAt!) <= Date.now());
  const manifest = JSON.parse(
    readFileSync(path.join(out, "videos", "talk.manifest.json"), "utf8"),
  );
  assert.equal(manifest.status, "succeeded");
});

test("a permanent and a transient failure come back as Failed with their exit codes", async (t) => {
  const { dir, out, runner } = await setup(t);
  const bad = fakeMedia(dir, "bad.mp4", { behaviour: "permanent" });
  const flaky = fakeMedia(dir, "flaky.mp4", { behaviour: "transient" });

  const a = await runner.start({ key: "a", env: jobEnv(bad, out) });
  const b = await runner.start({ key: "b", env: jobEnv(flaky, out) });

  assert.deepEqual(
    outcome(await waitForState(runner, a, ["Succeeded", "Failed"])),
    {
      state: "Failed",
      exitCode: 3,
    },
  );
  assert.deepEqual(
    outcome(await waitForState(runner, b, ["Succeeded", "Failed"])),
    {
      state: "Failed",
      exitCode: 4,
    },
  );
});

test("the job's stderr goes to the execution's log file", async (t) => {
  const { dir, out, runner } = await setup(t);
  const bad = fakeMedia(dir, "bad.mp4", { behaviour: "permanent" });

  const name = await runner.start({ key: "log", env: jobEnv(bad, out) });
  await waitForState(runner, name, ["Failed"]);

  const log = readFileSync(runner.logPath(name), "utf8");
  assert.match(log, /has no audio stream/);
});

test("beyond the concurrency limit executions wait as Processing until a slot frees", async (t) => {
  const { dir, out, runner } = await setup(t, 1);
  const slow = fakeMedia(dir, "slow.mp4", { behaviour: "hang" });
  const quick = fakeMedia(dir, "quick.mp4", { behaviour: "ok" });

  const first = await runner.start({ key: "1", env: jobEnv(slow, out) });
  const second = await runner.start({ key: "2", env: jobEnv(quick, out) });
  await waitForState(runner, first, ["Running"]);

  assert.equal((await runner.status(second)).state, "Processing");
  assert.equal(runner.running, 1);

  await runner.stop(first);
  assert.equal((await waitForState(runner, second, ["Succeeded"])).exitCode, 0);
});

test("starting the same spec twice starts one execution", async (t) => {
  const { dir, execDir, out, runner } = await setup(t);
  const media = fakeMedia(dir, "once.mp4", { behaviour: "ok" });
  const spec = { key: "batch/v/7#1", env: jobEnv(media, out) };

  const a = await runner.start(spec);
  const b = await runner.start(spec);
  await waitForState(runner, a, ["Succeeded"]);

  assert.equal(a, b);
  const records = readdirSync(execDir).filter((f) => f.endsWith(".json"));
  assert.equal(records.length, 1);
});

test("a runner opened again answers for an execution an earlier one started", async (t) => {
  const { dir, execDir, out, runner } = await setup(t);
  const media = fakeMedia(dir, "later.mp4", { behaviour: "ok", ms: 300 });
  const name = await runner.start({ key: "later", env: jobEnv(media, out) });
  await waitForState(runner, name, ["Running"]);
  await runner.close();

  const again = await LocalRunner.open({
    dir: execDir,
    maxConcurrent: 1,
    command: FAKE_JOB,
  });
  t.after(() => again.close({ stopRunning: true }));

  assert.deepEqual(
    outcome(await waitForState(again, name, ["Succeeded", "Failed"])),
    {
      state: "Succeeded",
      exitCode: 0,
    },
  );
});

test("executions left queued by a closed runner start when the folder is opened again", async (t) => {
  const { dir, execDir, out, runner } = await setup(t, 1);
  const slow = fakeMedia(dir, "slow.mp4", { behaviour: "hang" });
  const queued = fakeMedia(dir, "queued.mp4", { behaviour: "ok" });
  const first = await runner.start({ key: "1", env: jobEnv(slow, out) });
  const second = await runner.start({ key: "2", env: jobEnv(queued, out) });
  await waitForState(runner, first, ["Running"]);
  await runner.close({ stopRunning: true });
  assert.equal((await runner.status(second)).state, "Processing");

  const again = await LocalRunner.open({
    dir: execDir,
    maxConcurrent: 1,
    command: FAKE_JOB,
  });
  t.after(() => again.close({ stopRunning: true }));

  assert.equal((await waitForState(again, second, ["Succeeded"])).exitCode, 0);
  assert.equal((await again.status(first)).state, "Stopped");
});

test("an execution whose processes were killed without an exit record counts as Failed", async (t) => {
  const { dir, execDir, out, runner } = await setup(t);
  const slow = fakeMedia(dir, "slow.mp4", { behaviour: "hang" });
  const name = await runner.start({ key: "gone", env: jobEnv(slow, out) });
  await waitForState(runner, name, ["Running"]);
  const record = JSON.parse(
    readFileSync(path.join(execDir, `${name}.json`), "utf8"),
  );

  // The whole process group, wrapper included, as a reboot would.
  process.kill(-record.pid, "SIGKILL");
  const status = await waitForState(runner, name, ["Failed"]);

  assert.equal(status.exitCode, undefined);
  assert.match(status.detail ?? "", /vanished/);
});

test("a job that kills itself is Failed with the shell's signal exit code", async (t) => {
  const { dir, out, runner } = await setup(t);
  const media = fakeMedia(dir, "vanish.mp4", { behaviour: "vanish" });

  const name = await runner.start({ key: "self", env: jobEnv(media, out) });

  assert.deepEqual(outcome(await waitForState(runner, name, ["Failed"])), {
    state: "Failed",
    exitCode: 128 + 9,
  });
});

test("stopping a running execution makes it Stopped", async (t) => {
  const { dir, out, runner } = await setup(t);
  const slow = fakeMedia(dir, "slow.mp4", { behaviour: "hang" });
  const name = await runner.start({ key: "stop", env: jobEnv(slow, out) });
  await waitForState(runner, name, ["Running"]);

  await runner.stop(name);

  assert.equal(
    (await waitForState(runner, name, ["Stopped"])).state,
    "Stopped",
  );
  await waitForStateCount(runner);
});

test("a second runner on the same folder is refused while the first has it open", async (t) => {
  const { execDir } = await setup(t);

  await assert.rejects(
    LocalRunner.open({ dir: execDir, maxConcurrent: 1, command: FAKE_JOB }),
    /is used by another local runner \(process \d+\)/,
  );
});

test("an unknown execution is Unknown", async (t) => {
  const { runner } = await setup(t);
  assert.deepEqual(await runner.status("no-such-execution"), {
    state: "Unknown",
  });
});

/** State and exit code, without the start time. */
function outcome(s: ExecutionStatus) {
  return { state: s.state, exitCode: s.exitCode };
}

async function waitForStateCount(runner: LocalRunner): Promise<void> {
  // The stopped process leaves the slot once it has exited.
  const deadline = Date.now() + 10_000;
  while (runner.running > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(runner.running, 0);
}
