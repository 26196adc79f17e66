import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { planChildren } from "../../src/workflow/orchestrators/transcribe-batch.js";
import type { BatchStatus } from "../../src/workflow/types.js";
import { InstantRunner } from "../support/instant-runner.js";
import { runBatch, startWorkflow, urls, type Workflow } from "./helpers.js";

let wf: Workflow;
const runner = new InstantRunner();

before(async () => {
  wf = await startWorkflow(runner);
});

after(() => wf.stop());

test("a batch larger than maxBatchSize runs in child batches <batchId>/b/<k> and keeps source order", async () => {
  const sources = urls(25, "split");

  const result = await runBatch(wf, "split", sources, { maxBatchSize: 10 });

  assert.equal(result.succeeded, 25);
  assert.deepEqual(
    result.results.map((r) => r.source),
    sources,
  );
  // Sizes follow the children's shares of the concurrency (6, 5, 5).
  for (const [k, size] of [
    [0, 9],
    [1, 8],
    [2, 8],
  ] as const) {
    const child = await wf.client.getOrchestrationState(`split/b/${k}`, true);
    assert.equal(child?.name, "transcribeBatch");
    const status = JSON.parse(child.serializedCustomStatus!) as BatchStatus;
    assert.deepEqual(status, {
      total: size,
      succeeded: size,
      failed: 0,
      running: 0,
    });
  }
  const video = await wf.client.getOrchestrationState("split/b/2/v/7", true);
  assert.equal(video?.name, "transcribeVideo");
});

test("a plan gives each child a share of the concurrency and a size in proportion to it", () => {
  const plan = planChildren(5000, 1000, 16);

  assert.deepEqual(
    plan.map((c) => [c.size, c.share]),
    [
      [938, 3],
      [938, 3],
      [937, 3],
      [937, 3],
      [625, 2],
      [625, 2],
    ],
  );
});

test("a plan never exceeds the batch size or the concurrency", () => {
  for (const [n, max, c] of [
    [1001, 1000, 1],
    [4500, 1000, 16],
    [20_000, 1000, 16],
    [99_999, 1000, 64],
    [37, 10, 3],
  ] as const) {
    const plan = planChildren(n, max, c);
    assert.equal(
      plan.reduce((a, p) => a + p.size, 0),
      n,
    );
    assert.ok(plan.every((p) => p.size <= max && p.share >= 1));
    const first = plan.slice(0, c).reduce((a, p) => a + p.share, 0);
    assert.ok(first <= c, `${n}/${max}/${c}: ${first} shares at once`);
  }
});

test("past concurrency x batch size, children of share 1 and equal size run in rounds", () => {
  const plan = planChildren(20_000, 1000, 16);

  assert.equal(plan.length, 32);
  assert.ok(plan.every((p) => p.share === 1 && p.size === 625));
});
