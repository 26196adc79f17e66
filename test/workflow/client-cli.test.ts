import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

import { OrchestrationStatus } from "@microsoft/durabletask-js";

import type {
  ExecutionStatus,
  JobRunner,
  JobSpec,
} from "../../src/runners/runner.js";
import { InstantRunner } from "../support/instant-runner.js";
import { eventually } from "../hub/helpers.js";
import { fastOptions, startWorkflow, type Workflow } from "./helpers.js";
import { CLI as cli } from "../support/cli.js";

/** Instant, except media whose URL says "forever": those never end. */
class MixedRunner implements JobRunner {
  readonly kind = "mixed";
  private readonly instant = new InstantRunner();
  private readonly forever = new Set<string>();

  async start(spec: JobSpec): Promise<string> {
    const name = await this.instant.start(spec);
    if (spec.env.VIDEO_URL?.includes("forever")) this.forever.add(name);
    return name;
  }

  async status(name: string): Promise<ExecutionStatus> {
    return this.forever.has(name)
      ? { state: "Running" }
      : this.instant.status(name);
  }
}

let wf: Workflow;
let endpoint: string[];

before(async () => {
  wf = await startWorkflow(new MixedRunner());
  endpoint = ["--endpoint", `http://${wf.hub.address}`, "--taskhub", "default"];
});

after(() => wf.stop());

/** Runs `durascribe <args>`; resolves with its exit code and output. */
function durascribe(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args, ...endpoint],
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function batch(id: string, sources: string[], wait = true) {
  await wf.client.scheduleNewOrchestration(
    "transcribeBatch",
    {
      sources,
      cwd: "/",
      options: fastOptions(
        { storageAccountUrl: "file:/data" },
        { maxPollSeconds: 0.5 },
      ),
    },
    id,
  );
  if (wait) await wf.client.waitForOrchestrationCompletion(id, false, 30);
  else await wf.client.waitForOrchestrationStart(id, false, 30);
}

test("status shows a batch's status and progress, and --json the whole instance", async () => {
  await batch("shown", [
    "https://media.example/a.mp4",
    "https://media.example/b.mp4",
  ]);

  const [text, json] = await Promise.all([
    durascribe("status", "shown"),
    durascribe("status", "shown", "--json"),
  ]);

  assert.equal(text.code, 0);
  assert.match(text.stdout, /^status +Completed$/m);
  assert.match(
    text.stdout,
    /^progress +2\/2 done \(2 succeeded, 0 failed, 0 running\)$/m,
  );
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.name, "transcribeBatch");
  assert.equal(doc.output.succeeded, 2);
});

test("list shows batches but not their videos unless --all", async () => {
  await batch("listed", ["https://media.example/c.mp4"]);

  const [plain, all] = await Promise.all([
    durascribe("list"),
    durascribe("list", "--all", "--prefix", "listed"),
  ]);

  assert.match(plain.stdout, /^listed +transcribeBatch +Completed /m);
  assert.doesNotMatch(plain.stdout, /listed\/v\/0/);
  assert.match(
    all.stdout,
    /^listed\/v\/0 +transcribeVideo +Completed .*done 100% \(attempt 1\)$/m,
  );
});

test("wait exits 0 once a batch completed, and 4 when its timeout passes first", async () => {
  await batch("waited", ["https://media.example/d.mp4"]);
  await batch("endless", ["https://media.example/forever.mp4"], false);

  const [done, timedOut] = await Promise.all([
    durascribe("wait", "waited"),
    durascribe("wait", "endless", "--timeout", "1"),
  ]);

  assert.equal(done.code, 0);
  assert.match(done.stdout, /^waited Completed: 1\/1 done/m);
  assert.equal(timedOut.code, 4);
  assert.match(timedOut.stderr, /"endless" has not ended after 1 s/);
});

test("suspend, resume and terminate act on a running batch and its videos", async () => {
  await batch("acted", ["https://media.example/forever-2.mp4"], false);
  const state = (id: string) =>
    wf.client.getOrchestrationState(id, false).then((s) => s?.runtimeStatus);
  await eventually(
    async () =>
      (await state("acted/v/0")) === OrchestrationStatus.RUNNING
        ? true
        : undefined,
    "the video to start",
  );

  assert.equal((await durascribe("suspend", "acted")).code, 0);
  await eventually(
    async () =>
      (await state("acted")) === OrchestrationStatus.SUSPENDED
        ? true
        : undefined,
    "the batch to be suspended",
  );
  assert.equal((await durascribe("resume", "acted")).code, 0);
  await eventually(
    async () =>
      (await state("acted")) === OrchestrationStatus.RUNNING ? true : undefined,
    "the batch to run again",
  );
  const terminated = await durascribe(
    "terminate",
    "acted",
    "--reason",
    "enough",
  );

  assert.equal(terminated.code, 0);
  const end = await wf.client.waitForOrchestrationCompletion(
    "acted",
    false,
    30,
  );
  assert.equal(end?.runtimeStatus, OrchestrationStatus.TERMINATED);
  const video = await wf.client.waitForOrchestrationCompletion(
    "acted/v/0",
    false,
    30,
  );
  assert.equal(video?.runtimeStatus, OrchestrationStatus.TERMINATED);
});

test("purge deletes a finished batch together with its videos", async () => {
  await batch("purged", ["https://media.example/e.mp4"]);

  const out = await durascribe("purge", "purged");

  assert.equal(out.code, 0);
  assert.match(out.stdout, /purged 2 instances/);
  assert.equal(
    await wf.client.getOrchestrationState("purged", false),
    undefined,
  );
  assert.equal(
    await wf.client.getOrchestrationState("purged/v/0", false),
    undefined,
  );
});

test("status of an unknown instance and a purge by a running status are configuration errors", async () => {
  const [unknown, running] = await Promise.all([
    durascribe("status", "nobody"),
    durascribe("purge", "--status", "running"),
  ]);

  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no instance "nobody"/);
  assert.equal(running.code, 2);
  assert.match(running.stderr, /only finished statuses/);
});
