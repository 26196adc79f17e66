import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import type { FullBatchResult } from "../../src/workflow/types.js";
import { deferrer, tempDir } from "../hub/helpers.js";
import { speechMp4 } from "../support/media.js";
import { startRun, testModel } from "./helpers.js";

// Two transcriptions and a retry backoff: more than the suite's default
// limit on a loaded 2-core machine.
const LIMIT = { timeout: 300_000 };

test(
  "a job execution killed mid-run is retried and the video succeeds",
  LIMIT,
  async (t) => {
    const defer = deferrer(t);
    const { dir, cleanup } = tempDir();
    defer(cleanup);
    await speechMp4(dir, { name: "talk.mp4", seconds: 60 });
    const { model } = await testModel(dir);

    const run = startRun(dir, [
      "talk.mp4",
      "--model",
      model,
      "--threads",
      "2",
      "--json",
    ]);
    defer(() => run.proc.kill("SIGKILL"));
    // The first poll that finds the job running: its process exists.
    await run.line(/^talk: (downloading|transcribing)/);

    // The whole execution dies at once, as a container would when killed.
    const records = path.join(dir, ".durascribe", "executions");
    const [record] = readdirSync(records).filter((f) => f.endsWith(".json"));
    const { pid } = JSON.parse(
      readFileSync(path.join(records, record!), "utf8"),
    ) as { pid: number };
    process.kill(-pid, "SIGKILL");
    const { code, stdout, stderr } = await run.done;

    assert.equal(code, 0, stderr);
    const [video] = (JSON.parse(stdout) as FullBatchResult).results;
    assert.deepEqual([video!.status, video!.attempts], ["succeeded", 2]);
    assert.ok(readFileSync(video!.transcripts.txt!, "utf8").length > 0);
    const executions = readdirSync(records).filter((f) => f.endsWith(".json"));
    assert.equal(executions.length, 2, "a second execution was started");
  },
);
