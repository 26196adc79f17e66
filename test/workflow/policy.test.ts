import { test } from "node:test";
import assert from "node:assert/strict";

import {
  classify,
  jobEnvironment,
  nextDelay,
  retryDelay,
} from "../../src/workflow/orchestrators/policy.js";
import {
  batchDefaults,
  type ManifestSummary,
  type StatusResult,
} from "../../src/workflow/types.js";
import { fastOptions } from "./helpers.js";

function status(
  state: StatusResult["state"],
  fields: Partial<StatusResult> = {},
): StatusResult {
  return {
    state,
    exitCode: null,
    detail: null,
    manifest: null,
    manifestLocation: null,
    ...fields,
  };
}

function manifest(fields: Partial<ManifestSummary>): ManifestSummary {
  return {
    status: "running",
    phase: "fetching",
    progress: 0,
    formats: {},
    language: null,
    audioSeconds: null,
    error: null,
    exitCode: null,
    startedAt: "2025-05-20T10:00:00Z",
    ...fields,
  };
}

test("exit codes 2 and 3 are permanent failures; 1, 4 and signals are transient", () => {
  const permanent = (code: number) => {
    const o = classify(status("Failed", { exitCode: code }), "x");
    assert.equal(o.kind, "failed");
    return o.kind === "failed" && o.permanent;
  };

  assert.deepEqual([2, 3, 1, 4, 137].map(permanent), [
    true,
    true,
    false,
    false,
    false,
  ]);
});

test("a failed manifest's error names the failure, and decides when the runner gives no exit code", () => {
  const m = manifest({
    status: "failed",
    phase: "done",
    exitCode: 3,
    error: {
      code: "E_MEDIA_NO_AUDIO",
      message: "no audio stream",
      permanent: true,
    },
  });

  const o = classify(status("Failed", { manifest: m }), "exec-1");

  assert.deepEqual(o, {
    kind: "failed",
    permanent: true,
    error: "no audio stream",
    errorCode: "E_MEDIA_NO_AUDIO",
  });
});

test("a process that vanished is a transient failure that says so", () => {
  const o = classify(
    status("Failed", {
      detail: "process 42 vanished without recording an exit code",
    }),
    "exec-2",
  );

  assert.deepEqual(o, {
    kind: "failed",
    permanent: false,
    error:
      "job execution exec-2 failed: process 42 vanished without recording an exit code",
    errorCode: "E_JOB_VANISHED",
  });
});

test("a vanished process whose manifest says it succeeded did succeed", () => {
  const m = manifest({ status: "succeeded", phase: "done", exitCode: 0 });

  assert.deepEqual(classify(status("Failed", { manifest: m }), "x"), {
    kind: "succeeded",
  });
});

test("an execution stopped on the runner is a permanent failure", () => {
  const o = classify(status("Stopped"), "exec-3");

  assert.equal(o.kind === "failed" && o.permanent, true);
  assert.equal(o.kind === "failed" && o.errorCode, "E_JOB_STOPPED");
});

test("a running execution's phase comes from its manifest", () => {
  const phase = (
    m: ManifestSummary | null,
    state: StatusResult["state"] = "Running",
  ) => classify(status(state, { manifest: m }), "x");

  assert.deepEqual(phase(null), { kind: "running", phase: "starting" });
  assert.deepEqual(phase(null, "Processing"), {
    kind: "running",
    phase: "queued",
  });
  assert.deepEqual(phase(manifest({ phase: "fetching", progress: 0.25 })), {
    kind: "running",
    phase: "downloading",
    progress: 0.25,
  });
  assert.deepEqual(phase(manifest({ phase: "transcribing", progress: 0.5 })), {
    kind: "running",
    phase: "transcribing",
    progress: 0.5,
  });
});

test("polls start at 2 s and grow by half up to 30 s; retries wait twice as long each time", () => {
  const options = {
    ...fastOptions({ storageAccountUrl: "file:/x" }),
    ...batchDefaults,
  };
  const delays = [options.pollSeconds];
  while (delays.length < 10) delays.push(nextDelay(delays.at(-1)!, options));

  assert.deepEqual(
    delays,
    [2, 3, 4.5, 6.75, 10.125, 15.188, 22.782, 30, 30, 30],
  );
  assert.deepEqual(
    [1, 2, 3].map((r) => retryDelay(r, options)),
    [15, 30, 60],
  );
});

test("the job environment carries the contract's variables, optional ones only when set", () => {
  const options = fastOptions({
    storageAccountUrl: "https://acct.blob.core.windows.net",
    model: "base.en",
    language: "en",
    formats: ["txt", "json"],
    threads: 4,
    vad: true,
  });
  const source = {
    id: "DEM520",
    source: "DEM520",
    title: "A talk",
    base: "DEM520",
    mediaUrl: "https://cdn.example/DEM520.mp4",
    error: null,
    errorCode: null,
  };

  assert.deepEqual(jobEnvironment(options.job, source), {
    VIDEO_URL: "https://cdn.example/DEM520.mp4",
    STORAGE_ACCOUNT_URL: "https://acct.blob.core.windows.net",
    STORAGE_CONTAINER_NAME: "videos",
    STORAGE_BLOB_NAME: "DEM520",
    DURASCRIBE_MODEL: "base.en",
    DURASCRIBE_LANGUAGE: "en",
    DURASCRIBE_FORMATS: "txt,json",
    DURASCRIBE_THREADS: "4",
    DURASCRIBE_VAD: "true",
  });
});
