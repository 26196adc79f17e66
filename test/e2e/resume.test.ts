import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";

import type { FullBatchResult } from "../../src/workflow/types.js";
import { deferrer, tempDir } from "../hub/helpers.js";
import { speechMp4 } from "../support/media.js";
import { startRun, testModel } from "./helpers.js";

test("durascribe run killed mid-batch resumes the same batch when run again, starting no job twice", async (t) => {
  const defer = deferrer(t);
  const { dir, cleanup } = tempDir();
  defer(cleanup);
  for (const name of ["one.mp4", "two.mp4", "three.mp4"]) {
    await speechMp4(dir, { name, seconds: 20 });
  }
  const { model } = await testModel(dir);
  const args = [
    "one.mp4",
    "two.mp4",
    "three.mp4",
    "--model",
    model,
    "--threads",
    "1",
    "--json",
  ];

  const first = startRun(dir, args);
  defer(() => first.proc.kill("SIGKILL"));
  const scheduled = await first.line(/^batch (\S+): 3 sources scheduled$/);
  await first.line(/: transcribing/);
  first.proc.kill("SIGKILL");
  await first.done;

  const second = startRun(dir, args);
  defer(() => second.proc.kill("SIGKILL"));
  const resumed = await second.line(/^resuming batch (\S+)$/);
  const { code, stdout, stderr } = await second.done;

  assert.equal(
    resumed.split(" ").pop(),
    scheduled.split(" ")[1]!.replace(/:$/, ""),
  );
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout) as FullBatchResult;
  assert.deepEqual(
    result.results.map((r) => [r.title, r.status, r.attempts]),
    [
      ["one", "succeeded", 1],
      ["two", "succeeded", 1],
      ["three", "succeeded", 1],
    ],
  );
  const records = readdirSync(path.join(dir, ".durascribe", "executions"));
  assert.equal(records.filter((f) => f.endsWith(".json")).length, 3);
});
