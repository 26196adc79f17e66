/**
 * The transcription job end to end, as the orchestration runs it: the
 * real CLI in a child process, media from a real HTTP server, real ffmpeg
 * and whisper.cpp (with a model without tensors), the file store and
 * Azurite. Run `npx tsc -p tsconfig.json` first: the child runs dist/.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { BlobServiceClient } from "@azure/storage-blob";

import { withAzurite } from "../storage/azurite.js";
import { writeEmptyModel } from "../support/empty-model.js";
import { speechMp4, videoOnlyMp4 } from "../support/media.js";
import { dropAfter, withServer } from "./http-server.js";
import {
  errorLines,
  filesUnder,
  readManifest,
  runJobProcess,
  sendMedia,
} from "./job-helpers.js";

let fixtures: string;
let model: string;
let talk: Buffer;
let silentFilm: Buffer;

before(async () => {
  fixtures = await mkdtemp(path.join(os.tmpdir(), "durascribe-job-fixtures-"));
  model = path.join(fixtures, "ggml-empty.bin");
  await writeEmptyModel(model);
  talk = await readFile(await speechMp4(fixtures));
  silentFilm = await readFile(await videoOnlyMp4(fixtures));
});

after(async () => {
  await rm(fixtures, { recursive: true, force: true });
});

/** A fresh output folder and temp folder for one job, removed after. */
async function withJobDirs(
  body: (dirs: {
    out: string;
    tmp: string;
    env: Record<string, string>;
  }) => Promise<void>,
): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "durascribe-job-test-"));
  const out = path.join(root, "out");
  const tmp = path.join(root, "tmp");
  await mkdir(tmp);
  try {
    await body({
      out,
      tmp,
      env: {
        HOME: root,
        TMPDIR: tmp,
        STORAGE_ACCOUNT_URL: `file:${out}`,
        DURASCRIBE_MODEL: model,
        DURASCRIBE_THREADS: "2",
      },
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

void test("the job writes every format, each well formed, and a succeeded manifest", async () => {
  await withServer(
    (req, res) => sendMedia(res, talk, req.headers.range),
    async ({ url }) => {
      await withJobDirs(async ({ out, tmp, env }) => {
        const exit = await runJobProcess({
          ...env,
          VIDEO_URL: `${url}/media/DEM520.mp4`,
        });

        assert.equal(exit.code, 0, exit.stderr);
        const dir = path.join(out, "videos");
        assert.deepEqual(await filesUnder(dir), [
          "DEM520.json",
          "DEM520.manifest.json",
          "DEM520.srt",
          "DEM520.txt",
          "DEM520.vtt",
        ]);
        assert.equal(
          exit.stdout.trim(),
          path.join(dir, "DEM520.manifest.json"),
        );

        const manifest = await readManifest(
          path.join(dir, "DEM520.manifest.json"),
        );
        assert.equal(manifest.status, "succeeded");
        assert.equal(manifest.phase, "done");
        assert.equal(manifest.exitCode, 0);
        assert.equal(manifest.error, null);
        assert.equal(manifest.model, "empty");
        assert.equal(manifest.source, `${url}/media/DEM520.mp4`);
        assert.deepEqual(manifest.formats, {
          txt: path.join(dir, "DEM520.txt"),
          srt: path.join(dir, "DEM520.srt"),
          vtt: path.join(dir, "DEM520.vtt"),
          json: path.join(dir, "DEM520.json"),
        });
        assert.ok(manifest.audioSeconds! > 3 && manifest.audioSeconds! < 10);
        assert.ok(manifest.fetchSeconds! >= 0);
        assert.ok(manifest.processingSeconds! > 0);
        assert.ok(
          Date.parse(manifest.finishedAt!) >= Date.parse(manifest.startedAt),
        );

        // A model without tensors hears nothing: well-formed empty transcripts.
        const json = JSON.parse(
          await readFile(path.join(dir, "DEM520.json"), "utf8"),
        );
        assert.deepEqual(Object.keys(json), [
          "segments",
          "language",
          "model",
          "audioSeconds",
          "processingSeconds",
        ]);
        assert.deepEqual(json.segments, []);
        assert.equal(json.model, "empty");
        assert.equal(json.audioSeconds, manifest.audioSeconds);
        assert.equal(
          await readFile(path.join(dir, "DEM520.vtt"), "utf8"),
          "WEBVTT\n",
        );
        assert.equal(await readFile(path.join(dir, "DEM520.srt"), "utf8"), "");
        assert.equal(await readFile(path.join(dir, "DEM520.txt"), "utf8"), "");

        assert.deepEqual(await filesUnder(tmp), [], "temp files left behind");
      });
    },
  );
});

void test("a 500 and then a dropped connection are retried, resuming with a Range request", async () => {
  const half = Math.floor(talk.length / 2);
  await withServer(
    (req, res, i) => {
      if (i === 0) res.writeHead(500).end("busy");
      else if (i === 1) {
        res.writeHead(200, {
          "content-length": talk.length,
          "accept-ranges": "bytes",
        });
        dropAfter(res, talk.subarray(0, half));
      } else sendMedia(res, talk, req.headers.range);
    },
    async ({ url, requests }) => {
      await withJobDirs(async ({ out, env }) => {
        const exit = await runJobProcess({
          ...env,
          VIDEO_URL: `${url}/talk.mp4`,
          STORAGE_BLOB_NAME: "DEM520/transcript.srt",
          DURASCRIBE_FORMATS: "srt,json",
        });

        assert.equal(exit.code, 0, exit.stderr);
        assert.equal(requests.length, 3);
        assert.equal(requests[2]!.range, `bytes=${half}-`);
        const dir = path.join(out, "videos", "DEM520");
        assert.deepEqual(await filesUnder(dir), [
          "transcript.json",
          "transcript.manifest.json",
          "transcript.srt",
        ]);
        const manifest = await readManifest(
          path.join(dir, "transcript.manifest.json"),
        );
        assert.ok(manifest.audioSeconds! > 3, "the resumed file decoded whole");
      });
    },
  );
});

/** Runs a job that must fail, and checks what every failure must leave. */
async function failingJob(
  env: Record<string, string>,
  expected: { exitCode: number; code: string; message: RegExp },
): Promise<void> {
  await withJobDirs(async ({ out, tmp, env: base }) => {
    const exit = await runJobProcess({ ...base, ...env });

    assert.equal(exit.code, expected.exitCode, exit.stderr);
    const lines = errorLines(exit.stderr);
    assert.equal(lines.length, 1, exit.stderr);
    assert.match(lines[0]!, expected.message);

    const dir = path.join(out, "videos");
    const files = await filesUnder(dir);
    assert.equal(files.length, 1, `only the manifest: ${files.join(", ")}`);
    const manifest = await readManifest(path.join(dir, files[0]!));
    assert.equal(manifest.status, "failed");
    assert.equal(manifest.phase, "done");
    assert.equal(manifest.exitCode, expected.exitCode);
    assert.equal(manifest.error?.code, expected.code);
    assert.equal(manifest.error?.permanent, expected.exitCode !== 4);
    assert.deepEqual(manifest.formats, {});
    assert.deepEqual(await filesUnder(tmp), [], "temp files left behind");
  });
}

void test("a 404 fails at once as a permanent media error, exit code 3", async () => {
  await withServer(
    (_req, res) => res.writeHead(404).end("no such talk"),
    async ({ url, requests }) => {
      await failingJob(
        { VIDEO_URL: `${url}/gone.mp4` },
        {
          exitCode: 3,
          code: "E_FETCH_STATUS",
          message: /server answered 404 fetching media from .*\/gone\.mp4/,
        },
      );
      assert.equal(requests.length, 1);
    },
  );
});

void test("a text file given as media is a permanent error saying it is not media", async () => {
  await withServer(
    (req, res) =>
      sendMedia(
        res,
        Buffer.from("Agenda\n1. Welcome\n2. Demos\n"),
        req.headers.range,
        "text/plain",
      ),
    async ({ url }) => {
      await failingJob(
        { VIDEO_URL: `${url}/agenda.txt` },
        {
          exitCode: 3,
          code: "E_MEDIA_NOT_MEDIA",
          message: /agenda\.txt is not a media file/,
        },
      );
    },
  );
});

void test("a video without audio is a permanent error saying no audio stream", async () => {
  await withServer(
    (req, res) => sendMedia(res, silentFilm, req.headers.range),
    async ({ url }) => {
      await failingJob(
        { VIDEO_URL: `${url}/film.mp4` },
        {
          exitCode: 3,
          code: "E_MEDIA_NO_AUDIO",
          message: /no audio stream in .*film\.mp4/,
        },
      );
    },
  );
});

void test("media over the size cap is a permanent error", async () => {
  await withServer(
    (req, res) => sendMedia(res, talk, req.headers.range),
    async ({ url }) => {
      await failingJob(
        { VIDEO_URL: `${url}/talk.mp4`, DURASCRIBE_MAX_BYTES: "1KiB" },
        {
          exitCode: 3,
          code: "E_MEDIA_TOO_LARGE",
          message: /larger than the limit of 1024 bytes/,
        },
      );
    },
  );
});

void test("a local media file over the size cap is a permanent error naming the file", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "durascribe-big-"));
  try {
    const file = path.join(root, "big talk.mp4");
    await writeFile(file, talk);
    await failingJob(
      { VIDEO_URL: file, DURASCRIBE_MAX_BYTES: "1KiB" },
      {
        exitCode: 3,
        code: "E_MEDIA_TOO_LARGE",
        message: new RegExp(
          `media file ${file} is larger than the limit of 1024 bytes \\(it is ${talk.length} bytes`,
        ),
      },
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

void test("a media file cut short is a permanent error, not a transcript of its first part", async () => {
  await withJobDirs(async ({ tmp }) => {
    const cut = path.join(tmp, "..", "cut.mp4");
    // The index (moov) is at the front, so ffmpeg decodes what is there.
    await writeFile(cut, talk.subarray(0, Math.floor(talk.length / 3)));
    await failingJob(
      { VIDEO_URL: cut },
      {
        exitCode: 3,
        code: "E_MEDIA_TRUNCATED",
        message: /cut\.mp4 is truncated/,
      },
    );
  });
});

void test("a missing model is a configuration error saying how to get one, exit code 2", async () => {
  await withServer(
    (req, res) => sendMedia(res, talk, req.headers.range),
    async ({ url, requests }) => {
      await failingJob(
        { VIDEO_URL: `${url}/talk.mp4`, DURASCRIBE_MODEL: "base.en" },
        {
          exitCode: 2,
          code: "E_MODEL_MISSING",
          message: /durascribe models pull base\.en/,
        },
      );
      assert.equal(
        requests.length,
        0,
        "nothing is downloaded for a job that cannot run",
      );
    },
  );
});

void test("a bad setting is one error line and exit code 2, before anything is written", async () => {
  await withJobDirs(async ({ out, env }) => {
    const exit = await runJobProcess({
      ...env,
      VIDEO_URL: "talk.mp4",
      DURASCRIBE_THREADS: "many",
    });

    assert.equal(exit.code, 2);
    assert.deepEqual(errorLines(exit.stderr), [
      'durascribe: DURASCRIBE_THREADS "many" is not a whole number from 1 to 256',
    ]);
    await assert.rejects(filesUnder(out), { code: "ENOENT" });
  });
});

void test("the job uploads every format and the manifest to Blob Storage", async () => {
  await withAzurite(async ({ accountUrl, connectionString }) => {
    await withServer(
      (req, res) => sendMedia(res, talk, req.headers.range),
      async ({ url }) => {
        await withJobDirs(async ({ env }) => {
          const exit = await runJobProcess({
            ...env,
            VIDEO_URL: `${url}/talk.mp4`,
            STORAGE_ACCOUNT_URL: accountUrl,
            STORAGE_CONTAINER_NAME: "build-2025",
            STORAGE_BLOB_NAME: "DEM520.txt",
            AZURE_STORAGE_CONNECTION_STRING: connectionString,
          });

          assert.equal(exit.code, 0, exit.stderr);
          const container =
            BlobServiceClient.fromConnectionString(
              connectionString,
            ).getContainerClient("build-2025");
          const blobs: Record<string, string | undefined> = {};
          for await (const blob of container.listBlobsFlat()) {
            blobs[blob.name] = blob.properties.contentType;
          }
          assert.deepEqual(blobs, {
            "DEM520.json": "application/json; charset=utf-8",
            "DEM520.manifest.json": "application/json; charset=utf-8",
            "DEM520.srt": "application/x-subrip; charset=utf-8",
            "DEM520.txt": "text/plain; charset=utf-8",
            "DEM520.vtt": "text/vtt; charset=utf-8",
          });
          const manifest = JSON.parse(
            (
              await container
                .getBlockBlobClient("DEM520.manifest.json")
                .downloadToBuffer()
            ).toString(),
          );
          assert.equal(manifest.status, "succeeded");
          assert.equal(
            manifest.formats.vtt,
            `${accountUrl}/build-2025/DEM520.vtt`,
          );
          assert.equal(
            exit.stdout.trim(),
            `${accountUrl}/build-2025/DEM520.manifest.json`,
          );
        });
      },
    );
  });
});
