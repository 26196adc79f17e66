import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { planChildren } from "../../src/workflow/orchestrators/transcribe-batch.js";
import { readBatchResults } from "../../src/workflow/results.js";
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

test("a batch run in parts returns its parts, not its results, and each part only its counts", async () => {
  const sources = urls(25, "parts");

  const { output, results } = await runBatch(wf, "parts", sources, {
    maxBatchSize: 10,
  });

  assert.equal(output.results, undefined);
  assert.deepEqual(
    output.parts?.map((p) => [p.instanceId, p.total, p.succeeded, p.failed]),
    [
      ["parts/b/0", 9, 9, 0],
      ["parts/b/1", 8, 8, 0],
      ["parts/b/2", 8, 8, 0],
    ],
  );
  const child = await wf.client.getOrchestrationState("parts/b/1", true);
  assert.deepEqual(JSON.parse(child!.serializedOutput!), {
    total: 8,
    succeeded: 8,
    failed: 0,
  });
  // The results come from the videos' outputs, in source order.
  const video = await wf.client.getOrchestrationState("parts/b/1/v/3", true);
  assert.deepEqual(results[9 + 3], JSON.parse(video!.serializedOutput!));
  assert.equal(results.length, 25);
});

test("a video of a part with no result left reads as failed, in its place", async () => {
  const sources = urls(12, "purged");
  const { output } = await runBatch(wf, "purged", sources, {
    maxBatchSize: 5,
  });
  await wf.client.purgeOrchestration("purged/b/1/v/2");

  const { results } = await readBatchResults(wf.client, output);

  assert.equal(results.length, 12);
  const i = output.parts![0]!.total + 2;
  assert.deepEqual(
    [results[i]!.id, results[i]!.status, results[i]!.errorCode],
    ["purged/b/1/v/2", "failed", "E_NO_RESULT"],
  );
  assert.deepEqual(
    results.filter((_, k) => k !== i).map((r) => r.source),
    sources.filter((_, k) => k !== i),
  );
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
