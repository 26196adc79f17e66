import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { InstantRunner } from "../support/instant-runner.js";
import { runBatch, startWorkflow, urls, type Workflow } from "./helpers.js";

let wf: Workflow;
const runner = new InstantRunner();

before(async () => {
  wf = await startWorkflow(runner);
});

after(() => wf.stop());

/** History length of every instance whose id starts with `prefix`. */
async function historyLengths(prefix: string): Promise<Map<string, number>> {
  const ids: string[] = [];
  for await (const s of wf.client.getAllInstances({
    instanceIdPrefix: prefix,
    pageSize: 1000,
  })) {
    ids.push(s.instanceId);
  }
  const lengths = new Map<string, number>();
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      lengths.set(id, (await wf.client.getOrchestrationHistory(id)).length);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  return lengths;
}

test("5,000 sources complete with no instance's history past 5,000 events", async () => {
  const started = Date.now();
  const sources = urls(5000, "big");

  const result = await runBatch(wf, "big", sources, { concurrency: 256 }, 600);
  const seconds = (Date.now() - started) / 1000;

  assert.deepEqual(
    [result.total, result.succeeded, result.failed],
    [5000, 5000, 0],
  );
  assert.deepEqual(
    result.results.map((r) => r.source),
    sources,
  );
  assert.equal(new Set(result.results.map((r) => r.id)).size, 5000);
  // The output names its parts and does not grow with the sources.
  const outputBytes = JSON.stringify(result.output).length;
  assert.ok(outputBytes < 2000, `the output is ${outputBytes} bytes`);

  const lengths = await historyLengths("big");
  const [longest, n] = [...lengths].sort((a, b) => b[1] - a[1])[0]!;
  assert.equal(lengths.size, 1 + 6 + 5000);
  assert.ok(n <= 5000, `${longest} has ${n} history events`);
  process.stderr.write(
    `# 5,000 sources in ${seconds.toFixed(1)} s; longest history ${n} events (${longest})\n`,
  );
});
