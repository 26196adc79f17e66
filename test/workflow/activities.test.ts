import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import type { ActivityContext } from "@microsoft/durabletask-js";

import { silentLogger } from "../../src/logger.js";
import type { ExecutionStatus, JobRunner } from "../../src/runners/runner.js";
import { BuildApi } from "../../src/sources/build.js";
import { createActivities } from "../../src/workflow/activities.js";
import type { StatusResult } from "../../src/workflow/types.js";
import { tempDir } from "../hub/helpers.js";

/** A runner whose one execution reports what the test sets. */
class FixedRunner implements JobRunner {
  readonly kind = "fixed";
  constructor(public status_: ExecutionStatus) {}
  async start(): Promise<string> {
    return "exec-1";
  }
  async status(): Promise<ExecutionStatus> {
    return this.status_;
  }
}

function writeManifest(folder: string, startedAt: string, status: string) {
  mkdirSync(path.join(folder, "videos"), { recursive: true });
  writeFileSync(
    path.join(folder, "videos", "talk.manifest.json"),
    JSON.stringify({
      version: 1,
      status,
      phase: "done",
      progress: 1,
      source: "/m/talk.mp4",
      base: "talk",
      formats: { txt: path.join(folder, "videos", "talk.txt") },
      language: "en",
      model: "tiny.en",
      audioSeconds: 5,
      processingSeconds: 1,
      fetchSeconds: 0,
      startedAt,
      updatedAt: startedAt,
      finishedAt: startedAt,
      error: null,
      exitCode: 0,
    }),
  );
}

async function poll(folder: string, runner: JobRunner): Promise<StatusResult> {
  const activities = createActivities({
    runner,
    build: new BuildApi({ baseUrl: "http://127.0.0.1:9" }),
    logger: silentLogger,
  });
  const get = activities.getJobExecutionStatus! as (
    ctx: ActivityContext,
    input: unknown,
  ) => Promise<StatusResult>;
  return get({} as ActivityContext, {
    executionName: "exec-1",
    output: {
      storageAccountUrl: `file:${folder}`,
      storageContainer: "videos",
      base: "talk",
    },
  });
}

test("a status poll carries the execution's manifest and where it is", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const now = new Date().toISOString();
  writeManifest(dir, now, "succeeded");

  const s = await poll(
    dir,
    new FixedRunner({ state: "Succeeded", exitCode: 0, startedAt: now }),
  );

  assert.equal(s.manifest?.status, "succeeded");
  assert.equal(s.manifest?.language, "en");
  assert.equal(
    s.manifestLocation,
    path.join(dir, "videos", "talk.manifest.json"),
  );
});

test("a manifest left by an earlier run of the same outputs is not taken for this execution's", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeManifest(
    dir,
    new Date(Date.now() - 2 * 3600_000).toISOString(),
    "succeeded",
  );

  const s = await poll(
    dir,
    new FixedRunner({ state: "Failed", startedAt: new Date().toISOString() }),
  );

  assert.equal(s.manifest, null);
  assert.equal(s.state, "Failed");
});
