/**
 * A job execution killed in the middle: by SIGTERM (the platform stopping
 * it) it cleans up and says so; by SIGKILL it cannot, but still leaves no
 * half transcript. The child runs dist/: build first.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { writeEmptyModel } from "../support/empty-model.js";
import { speechMp4 } from "../support/media.js";
import { withServer } from "./http-server.js";
import {
  errorLines,
  filesUnder,
  manifestWhen,
  readManifest,
  runJobProcess,
  sendMedia,
  startCli,
  type Exit,
} from "./job-helpers.js";

let fixtures: string;
let model: string;
let longTalk: Buffer;

before(async () => {
  fixtures = await mkdtemp(path.join(os.tmpdir(), "durascribe-kill-fixtures-"));
  model = path.join(fixtures, "ggml-empty.bin");
  await writeEmptyModel(model);
  // Long enough that transcribing takes many seconds with any model.
  longTalk = await readFile(await speechMp4(fixtures, { seconds: 120 }));
});

after(async () => {
  await rm(fixtures, { recursive: true, force: true });
});

/**
 * Starts a job on the long talk, waits until its manifest says it is
 * transcribing, and sends `signal`.
 */
async function killWhileTranscribing(
  signal: NodeJS.Signals,
  check: (dirs: { out: string; tmp: string; exit: Exit }) => Promise<void>,
): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "durascribe-kill-"));
  const out = path.join(root, "out");
  const tmp = path.join(root, "tmp");
  await mkdir(tmp);
  await mkdir(path.join(out, "videos"), { recursive: true });
  try {
    await withServer(
      (req, res) => sendMedia(res, longTalk, req.headers.range),
      async ({ url }) => {
        const job = startCli(["job"], {
          HOME: root,
          TMPDIR: tmp,
          VIDEO_URL: `${url}/long-talk.mp4`,
          STORAGE_ACCOUNT_URL: `file:${out}`,
          DURASCRIBE_MODEL: model,
          DURASCRIBE_THREADS: "2",
        });
        const manifest = path.join(out, "videos", "long-talk.manifest.json");
        const running = await Promise.race([
          manifestWhen(
            manifest,
            (m) => m.status === "running" && m.phase === "transcribing",
          ),
          job.exited.then((e) => {
            throw new Error(`the job ended before transcribing: ${e.stderr}`);
          }),
        ]);
        assert.equal(running.status, "running");
        // The download is in the temp folder now: there is something to clean.
        assert.ok(
          (await filesUnder(tmp)).length > 0,
          "no temp file while running",
        );

        job.child.kill(signal);
        await check({ out, tmp, exit: await job.exited });
      },
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

void test("SIGTERM mid-run removes temp files, records the stop and exits 4", async () => {
  await killWhileTranscribing("SIGTERM", async ({ out, tmp, exit }) => {
    assert.equal(exit.code, 4, exit.stderr);
    assert.deepEqual(errorLines(exit.stderr), [
      "durascribe: the job execution was stopped by SIGTERM; running it again may succeed",
    ]);
    assert.deepEqual(await filesUnder(tmp), [], "temp files left behind");
    assert.deepEqual(await filesUnder(out), ["videos/long-talk.manifest.json"]);

    const manifest = await readManifest(
      path.join(out, "videos", "long-talk.manifest.json"),
    );
    assert.equal(manifest.status, "failed");
    assert.equal(manifest.exitCode, 4);
    assert.deepEqual(manifest.error, {
      code: "E_STOPPED",
      message:
        "the job execution was stopped by SIGTERM; running it again may succeed",
      permanent: false,
    });
  });
});

void test("SIGKILL mid-run leaves no transcript, whole or half, and the next job reclaims its temp folder", async () => {
  await killWhileTranscribing("SIGKILL", async ({ out, tmp, exit }) => {
    assert.equal(exit.signal, "SIGKILL");
    // Only the manifest, still saying running: the orchestration sees a
    // job execution that ended without finishing, and retries it. A file
    // store's hidden temp file may survive a kill; it is never a transcript.
    const visible = (await filesUnder(out)).filter(
      (f) => !path.basename(f).startsWith("."),
    );
    assert.deepEqual(visible, ["videos/long-talk.manifest.json"]);
    const manifest = await readManifest(
      path.join(out, "videos", "long-talk.manifest.json"),
    );
    assert.equal(manifest.status, "running");
    assert.deepEqual(manifest.formats, {});

    // The killed job could not remove its download; the next job on the
    // same temp root does, before it fetches anything (here a file that
    // is not there, so it fails at once).
    const left = await readdir(tmp);
    assert.equal(left.length, 1);
    assert.match(left[0]!, /^durascribe-job-/);
    const next = await runJobProcess({
      HOME: path.dirname(tmp),
      TMPDIR: tmp,
      VIDEO_URL: path.join(tmp, "..", "missing.mp4"),
      STORAGE_ACCOUNT_URL: `file:${out}`,
      STORAGE_BLOB_NAME: "next",
      DURASCRIBE_MODEL: model,
    });
    assert.equal(next.code, 3, next.stderr);
    assert.deepEqual(await readdir(tmp), []);
  });
});
