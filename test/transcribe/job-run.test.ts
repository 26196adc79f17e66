/**
 * The job's pipeline called in-process (runJob), for what a child process
 * shows poorly: progress, aborts, and download retries tuned to be quick.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { TransientError } from "../../src/errors.js";
import { FileTranscriptStore } from "../../src/storage/file.js";
import { WhisperEngines } from "../../src/transcribe/engine.js";
import { runJob, type JobOptions } from "../../src/transcribe/job.js";
import {
  transcribeSettings,
  envPick,
} from "../../src/transcribe/job-config.js";
import type { JobPhase } from "../../src/transcribe/manifest.js";
import { writeEmptyModel } from "../support/empty-model.js";
import { speechMp4 } from "../support/media.js";
import { withServer } from "./http-server.js";
import { readManifest } from "./job-helpers.js";

let root: string;
let media: string;
let longMedia: string;
let model: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "durascribe-run-"));
  model = path.join(root, "ggml-empty.bin");
  await writeEmptyModel(model);
  media = await speechMp4(root);
  // Over two 30 s windows, so whisper.cpp reports progress between them.
  longMedia = await speechMp4(root, { seconds: 45, name: "long.mp4" });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function setup(name: string) {
  const out = path.join(root, name, "out");
  const tempRoot = path.join(root, name, "tmp");
  await mkdir(tempRoot, { recursive: true });
  const env = { HOME: root, DURASCRIBE_MODEL: model, DURASCRIBE_THREADS: "2" };
  const settings = transcribeSettings(envPick(env), env);
  const store = new FileTranscriptStore(out);
  const opts: JobOptions = { engines: new WhisperEngines(), tempRoot };
  return { out, tempRoot, settings, store, opts };
}

void test("progress goes through every phase in order, each ending at 1", async () => {
  const { tempRoot, settings, store, opts } = await setup("progress");
  const seen: [JobPhase, number][] = [];

  const result = await runJob(
    { source: media, base: "talk", store, settings },
    { ...opts, onProgress: (phase, p) => seen.push([phase, p]) },
  );

  const phases = [...new Set(seen.map(([phase]) => phase))];
  assert.deepEqual(phases, [
    "fetching",
    "decoding",
    "transcribing",
    "uploading",
  ]);
  for (const phase of phases) {
    const mine = seen.filter(([p]) => p === phase).map(([, f]) => f);
    assert.equal(mine[0], 0, phase);
    assert.equal(mine.at(-1), 1, phase);
  }
  assert.equal(result.manifest.status, "succeeded");
  assert.ok(result.timings.whisper > 0);
  assert.ok(result.timings.whisper <= result.timings.transcribe + 0.01);
  assert.ok(result.timings.total >= result.timings.transcribe);
  assert.deepEqual(await readdir(tempRoot), []);
});

void test("a download truncated on every attempt fails as transient, exit code 4", async () => {
  const { out, tempRoot, settings, store, opts } = await setup("truncated");
  const body = await readFile(media);
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-length": body.length });
      res.end(body.subarray(0, 1000));
    },
    async ({ url, requests }) => {
      await assert.rejects(
        runJob(
          { source: `${url}/talk.mp4`, base: "talk", store, settings },
          { ...opts, fetch: { backoffMs: 1, maxBackoffMs: 2, maxAttempts: 3 } },
        ),
        (err: unknown) => {
          assert.ok(err instanceof TransientError);
          assert.equal(err.exitCode, 4);
          // The connection closes early: Node calls that a network error.
          assert.match(err.code, /^E_FETCH_(TRUNCATED|NETWORK)$/);
          assert.match(err.message, /\(gave up after 3 attempts\)$/);
          return true;
        },
      );
      assert.equal(requests.length, 3);
    },
  );

  const manifest = await readManifest(path.join(out, "talk.manifest.json"));
  assert.equal(manifest.status, "failed");
  assert.equal(manifest.phase, "done");
  assert.equal(manifest.exitCode, 4);
  assert.match(manifest.error!.code, /^E_FETCH_(TRUNCATED|NETWORK)$/);
  assert.equal(manifest.error!.permanent, false);
  assert.deepEqual(await readdir(tempRoot), []);
});

void test("an abort while transcribing stops whisper, cleans up and fails as transient", async () => {
  const { out, tempRoot, settings, store, opts } = await setup("abort");
  const controller = new AbortController();

  await assert.rejects(
    runJob(
      { source: longMedia, base: "talk", store, settings },
      {
        ...opts,
        signal: controller.signal,
        // Once whisper.cpp itself reports progress: it is running.
        onProgress: (phase, fraction) => {
          if (phase === "transcribing" && fraction > 0 && fraction < 1) {
            controller.abort(new Error("user gave up"));
          }
        },
      },
    ),
    (err: unknown) => err instanceof TransientError && err.code === "E_ABORTED",
  );

  const manifest = await readManifest(path.join(out, "talk.manifest.json"));
  assert.equal(manifest.status, "failed");
  assert.equal(manifest.error?.code, "E_ABORTED");
  assert.deepEqual(await readdir(out), ["talk.manifest.json"]);
  assert.deepEqual(await readdir(tempRoot), []);
});
