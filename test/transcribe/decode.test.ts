import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { PermanentMediaError } from "../../src/errors.js";
import {
  SAMPLE_RATE,
  decodeAudio,
  ffmpegPath,
  parseDuration,
} from "../../src/transcribe/decode.js";
import { speechMp4, speechWav, videoOnlyMp4 } from "../support/media.js";

async function withTempDir(body: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-decode-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Seconds of a WAV file, from its own header as ffmpeg reads it. */
async function wavSeconds(file: string): Promise<number> {
  const err = await promisify(execFile)(ffmpegPath(), [
    "-hide_banner",
    "-i",
    file,
  ]).then(
    () => "",
    (e: { stderr: string }) => e.stderr,
  );
  return parseDuration(err)!;
}

void test("the ffmpeg binary comes from the npm package, not the system", () => {
  assert.match(ffmpegPath(), /node_modules[\\/]@ffmpeg-installer[\\/]/);
});

void test("an H.264/AAC MP4 decodes to 16 kHz mono float samples of the speech's length", async () => {
  await withTempDir(async (dir) => {
    const mp4 = await speechMp4(dir);
    const spoken = await wavSeconds(path.join(dir, "speech.wav"));

    const audio = await decodeAudio(mp4);

    assert.ok(audio.pcm instanceof Float32Array);
    assert.equal(audio.seconds, audio.pcm.length / SAMPLE_RATE);
    // AAC adds a frame or two of padding; nothing more.
    assert.ok(
      Math.abs(audio.seconds - spoken) < 0.2,
      `${audio.seconds} vs ${spoken}`,
    );
    let peak = 0;
    for (const s of audio.pcm) peak = Math.max(peak, Math.abs(s));
    assert.ok(peak > 0.05 && peak <= 1.5, `peak ${peak}`);
  });
});

void test("progress rises and ends at exactly 1", async () => {
  await withTempDir(async (dir) => {
    const wav = await speechWav(dir, "Counting the progress of decoding.");
    const seen: number[] = [];

    await decodeAudio(wav, { onProgress: (f) => seen.push(f) });

    assert.ok(seen.length >= 2);
    assert.equal(seen.at(-1), 1);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!);
  });
});

void test("a video without audio is a permanent error saying no audio stream", async () => {
  await withTempDir(async (dir) => {
    const mp4 = await videoOnlyMp4(dir);
    await assert.rejects(
      decodeAudio(mp4, { label: "film.mp4" }),
      (err: unknown) => {
        assert.ok(err instanceof PermanentMediaError);
        assert.equal(err.code, "E_MEDIA_NO_AUDIO");
        assert.match(err.message, /no audio stream in film\.mp4/);
        return true;
      },
    );
  });
});

void test("a text file is a permanent error saying it is not media", async () => {
  await withTempDir(async (dir) => {
    for (const name of ["notes.txt", "notes", "notes.mp4"]) {
      const file = path.join(dir, name);
      await writeFile(file, "These are meeting notes, not a recording.\n");
      await assert.rejects(decodeAudio(file), (err: unknown) => {
        assert.ok(err instanceof PermanentMediaError, name);
        assert.equal(err.code, "E_MEDIA_NOT_MEDIA", name);
        assert.match(err.message, /is not a media file/);
        return true;
      });
    }
  });
});

void test("a media file cut short is a permanent error, not part of its audio", async () => {
  await withTempDir(async (dir) => {
    const whole = await readFile(await speechMp4(dir));
    const cut = path.join(dir, "cut.mp4");
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 3)));

    await assert.rejects(decodeAudio(cut), (err: unknown) => {
      assert.ok(err instanceof PermanentMediaError);
      assert.equal(err.code, "E_MEDIA_TRUNCATED");
      return true;
    });
  });
});

void test("an abort kills ffmpeg and rejects with the abort's reason", async () => {
  await withTempDir(async (dir) => {
    const mp4 = await speechMp4(dir, { seconds: 60 });
    const controller = new AbortController();
    const reason = new Error("stop now");

    const decoding = decodeAudio(mp4, {
      signal: controller.signal,
      onProgress: () => controller.abort(reason),
    });

    await assert.rejects(decoding, (err) => err === reason);
    const children = await promisify(execFile)("pgrep", [
      "-P",
      String(process.pid),
    ]).then(
      (r) => r.stdout.trim(),
      () => "",
    );
    assert.equal(children, "");
  });
});

void test("an already aborted signal never starts ffmpeg", async () => {
  const reason = new Error("too late");
  await assert.rejects(
    decodeAudio("/nonexistent/file.mp4", { signal: AbortSignal.abort(reason) }),
    (err) => err === reason,
  );
});

void test("parseDuration reads hours, minutes and fractional seconds", () => {
  assert.equal(
    parseDuration("  Duration: 01:02:03.50, start: 0.000000"),
    3723.5,
  );
  assert.equal(parseDuration("  Duration: N/A, bitrate: N/A"), undefined);
});
