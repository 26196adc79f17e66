/**
 * The whisper.cpp engine against the real addon (build/native, built by
 * `npm run build:native`) and real whisper.cpp inference. Most tests use an
 * empty tiny.en model (header, mel filters, vocabulary, no tensors): the
 * real cost of the encoder and decoder, no download. The speech tests run
 * when a real model is in the cache and are skipped otherwise.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { arch, homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { ConfigError, TransientError } from "../../src/errors.js";
import { Logger } from "../../src/logger.js";
import { ffmpegPath } from "../../src/transcribe/decode.js";
import {
  setWhisperLogger,
  whisperBuildInfo,
  WhisperModel,
} from "../../src/transcribe/whisper.js";
import { loadWhisperAddon } from "../../src/transcribe/whisper-native.js";
import { emptyModel, writeEmptyModel } from "../support/empty-model.js";

const run = promisify(execFile);
const CACHE = join(homedir(), ".cache", "durascribe", "models");
const REAL_TINY_EN = join(CACHE, "ggml-tiny.en.bin");
const REAL_VAD = existsSync(CACHE)
  ? readdirSync(CACHE).find((f) => /^ggml-silero-v.*\.bin$/.test(f))
  : undefined;

let dir: string;
let model: WhisperModel;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "durascribe-whisper-"));
  await writeEmptyModel(join(dir, "empty.en.bin"));
  model = await WhisperModel.load(join(dir, "empty.en.bin"));
});

after(async () => {
  model.close();
  await rm(dir, { recursive: true, force: true });
});

/** `seconds` of a quiet 440 Hz tone at 16 kHz. */
function tone(seconds: number): Float32Array {
  const pcm = new Float32Array(Math.round(seconds * 16000));
  for (let i = 0; i < pcm.length; i++) {
    pcm[i] = 0.1 * Math.sin((2 * Math.PI * 440 * i) / 16000);
  }
  return pcm;
}

/** Rejection of `promise`, failing when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection");
}

test("an empty model loads and reports tiny.en's shape", () => {
  assert.equal(model.info.type, "tiny");
  assert.equal(model.info.vocabSize, 51864);
  assert.equal(model.info.audioLayers, 4);
  assert.equal(model.multilingual, false);
});

test("an empty model transcribes audio to zero segments in English", async () => {
  const result = await model.transcribe(tone(3), { threads: 2 });
  assert.deepEqual(result.segments, []);
  assert.equal(result.language, "en");
  assert.equal(result.audioSeconds, 3);
  assert.ok(result.whisperMs > 0, "whisper.cpp's own time is measured");
  assert.ok(result.timings && result.timings.encodeMs > 0);
});

test("progress rises through whisper.cpp's windows to exactly 1", async () => {
  const seen: number[] = [];
  // 35 s is two windows: whisper.cpp reports 0, then 30/35 of the audio.
  await model.transcribe(tone(35), {
    threads: 2,
    onProgress: (f) => seen.push(f),
  });
  assert.equal(seen.at(-1), 1);
  assert.ok(
    seen.some((f) => f > 0 && f < 1),
    `midway values: ${seen.join(", ")}`,
  );
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!);
});

test("the event loop keeps ticking while whisper.cpp runs", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const result = await model.transcribe(tone(30), { threads: 2 });
    // A blocked loop would tick at most once, after the run.
    assert.ok(
      ticks >= 10,
      `${ticks} ticks during ${Math.round(result.whisperMs)} ms`,
    );
  } finally {
    clearInterval(timer);
  }
});

test("aborting mid-run rejects with the signal's reason and the model stays usable", async () => {
  const controller = new AbortController();
  const reason = new Error("stop now");
  // 120 s is four windows; abort once whisper.cpp reports it has begun.
  const running = model.transcribe(tone(120), {
    threads: 2,
    signal: controller.signal,
    onProgress: () => controller.abort(reason),
  });
  assert.equal(await rejection(running), reason);

  const again = await model.transcribe(tone(1), { threads: 2 });
  assert.deepEqual(again.segments, []);
});

test("an already aborted signal rejects without running", async () => {
  const reason = new Error("too late");
  const err = await rejection(
    model.transcribe(tone(1), { signal: AbortSignal.abort(reason) }),
  );
  assert.equal(err, reason);
});

test("runs on one model are queued one after the other", async () => {
  const order: string[] = [];
  // Even a run too short for whisper.cpp holds the model until it settles,
  // and the addon refuses an overlapping one: the queue must wait.
  const first = model.transcribe(tone(0.05)).then(() => order.push("first"));
  const second = model.transcribe(tone(0.05)).then(() => order.push("second"));
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first", "second"]);
});

test("closing a model during a run rejects the run as transient", async () => {
  const own = await WhisperModel.load(join(dir, "empty.en.bin"));
  const running = own.transcribe(tone(60), {
    threads: 2,
    onProgress: () => own.close(),
  });
  const err = await rejection(running);
  assert.ok(err instanceof TransientError);
  assert.equal(err.code, "E_WHISPER_ABORTED");
  await assert.rejects(own.transcribe(tone(1)), TransientError);
});

test("a missing model file is a ConfigError naming the path", async () => {
  const path = join(dir, "nope.bin");
  const err = await rejection(WhisperModel.load(path));
  assert.ok(err instanceof ConfigError);
  assert.equal(err.code, "E_MODEL_NOT_FOUND");
  assert.match(err.message, /nope\.bin/);
});

test("a file that is not a model is a ConfigError saying so", async () => {
  const path = join(dir, "garbage.bin");
  await writeFile(path, "this is a text file, not a ggml model\n".repeat(50));
  const err = await rejection(WhisperModel.load(path));
  assert.ok(err instanceof ConfigError);
  assert.equal(err.code, "E_MODEL_INVALID");
  assert.match(err.message, /garbage\.bin.*not a whisper\.cpp ggml model/);
});

test("a truncated model is a ConfigError, not a crash", async () => {
  const path = join(dir, "truncated.bin");
  const whole = emptyModel();
  // Cut inside the vocabulary, the last part of an empty model.
  await writeFile(path, whole.subarray(0, whole.length - 100));
  const err = await rejection(WhisperModel.load(path));
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /truncated/);
});

test("VAD with a missing VAD model is a ConfigError naming it", async () => {
  const modelPath = join(dir, "no-vad.bin");
  const err = await rejection(
    model.transcribe(tone(1), { vad: { modelPath } }),
  );
  assert.ok(err instanceof ConfigError);
  assert.equal(err.code, "E_VAD_MODEL_NOT_FOUND");
  assert.match(err.message, /no-vad\.bin/);
});

test("VAD with a file that is not a VAD model gives whisper.cpp's reason", async () => {
  const modelPath = join(dir, "bad-vad.bin");
  await writeFile(modelPath, Buffer.alloc(4096, 7));
  const err = await rejection(
    model.transcribe(tone(1), { vad: { modelPath } }),
  );
  assert.ok(err instanceof ConfigError);
  assert.equal(err.code, "E_VAD_MODEL_INVALID");
  assert.match(err.message, /bad-vad\.bin.*bad magic/);
});

test("an unknown language is a ConfigError", async () => {
  const err = await rejection(model.transcribe(tone(1), { language: "xx" }));
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /unknown language "xx"/);
});

test("an option out of whisper.cpp's range is a ConfigError", async () => {
  const err = await rejection(model.transcribe(tone(1), { beamSize: 9 }));
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /beamSize must be between 0 and 8/);
});

test("an English-only model refuses another language and translation", async () => {
  await assert.rejects(
    model.transcribe(tone(1), { language: "de" }),
    /English-only.*"de"/,
  );
  await assert.rejects(
    model.transcribe(tone(1), { translate: true }),
    /English-only and cannot translate/,
  );
});

test("a multilingual model detects a language whisper.cpp knows", async () => {
  const path = join(dir, "empty.multi.bin");
  await writeEmptyModel(path, { multilingual: true });
  const multi = await WhisperModel.load(path);
  try {
    assert.equal(multi.multilingual, true);
    const result = await multi.transcribe(tone(2), { threads: 2 });
    assert.ok(result.language, "a language was detected");
    const addon = loadWhisperAddon();
    assert.equal(addon.languageCode(result.language), result.language);
    // Too short to run: the language given comes back as whisper's code.
    const given = await multi.transcribe(tone(0.05), { language: "German" });
    assert.equal(given.language, "de");
  } finally {
    multi.close();
  }
});

test("less than 0.1 s of audio gives no segments without running", async () => {
  const result = await model.transcribe(new Float32Array(100));
  assert.deepEqual(result.segments, []);
  assert.equal(result.whisperMs, 0);
});

test("whisper.cpp logs go to a logger only when one is set", async () => {
  const lines: string[] = [];
  const warned = new Promise<void>((resolve) => {
    const sink = (line: string): void => {
      lines.push(line);
      if (/ warn .*assuming empty model/.test(line)) resolve();
    };
    setWhisperLogger(new Logger("debug", {}, sink));
  });
  (await WhisperModel.load(join(dir, "empty.en.bin"))).close();
  await warned;

  setWhisperLogger(undefined);
  const count = lines.length;
  (await WhisperModel.load(join(dir, "empty.en.bin"))).close();
  assert.equal(lines.length, count);
});

test("an addon that is not built is an error saying how to build it", () => {
  assert.throws(
    () => loadWhisperAddon(join(dir, "missing.node")),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.code === "E_WHISPER_ADDON" &&
      /npm run build:native/.test(err.message),
  );
});

test(
  "the addon is built with AVX2, FMA and F16C on x86-64",
  { skip: arch() !== "x64" && "not an x86-64 machine" },
  () => {
    const { version, systemInfo } = whisperBuildInfo();
    assert.equal(version, "1.9.1");
    for (const feature of ["AVX2", "FMA", "F16C"]) {
      assert.match(systemInfo, new RegExp(`${feature} = 1`));
    }
  },
);

/** espeak-ng speech of `text` as 16 kHz mono samples, after `silence` s. */
async function speech(text: string, silence = 0): Promise<Float32Array> {
  const wav = join(dir, "speech.wav");
  await run("espeak-ng", ["-w", wav, text]);
  const { stdout } = await run(
    ffmpegPath(),
    [
      "-v",
      "error",
      "-i",
      wav,
      "-f",
      "f32le",
      "-ac",
      "1",
      "-ar",
      "16000",
    ].concat(["pipe:1"]),
    { encoding: "buffer", maxBuffer: 64 << 20 },
  );
  const bytes = Buffer.from(stdout);
  const said = new Float32Array(
    bytes.buffer,
    bytes.byteOffset,
    bytes.length / 4,
  );
  const pcm = new Float32Array(silence * 16000 + said.length);
  pcm.set(said, silence * 16000);
  return pcm;
}

const SAID =
  "The quick brown fox jumps over the lazy dog. Durable transcription keeps working when machines fail.";
const noRealModel = !existsSync(REAL_TINY_EN) && `no ${REAL_TINY_EN}`;

test(
  "a real tiny.en transcribes speech with word timings",
  { skip: noRealModel },
  async () => {
    const real = await WhisperModel.load(REAL_TINY_EN);
    try {
      const pcm = await speech(SAID);
      const result = await real.transcribe(pcm, { wordTimestamps: true });
      const text = result.segments.map((s) => s.text).join(" ");
      assert.match(text.toLowerCase(), /lazy dog.*machines/);
      const words = result.segments.flatMap((s) => s.words ?? []);
      assert.ok(words.some((w) => /lazy/i.test(w.text)));
      for (let i = 1; i < words.length; i++) {
        assert.ok(words[i]!.start >= words[i - 1]!.start);
        assert.ok(words[i]!.end >= words[i]!.start);
      }
    } finally {
      real.close();
    }
  },
);

test(
  "beam search transcribes speech as well",
  { skip: noRealModel },
  async () => {
    const real = await WhisperModel.load(REAL_TINY_EN);
    try {
      const result = await real.transcribe(await speech(SAID), {
        beamSize: 4,
      });
      const text = result.segments.map((s) => s.text).join(" ");
      assert.match(text.toLowerCase(), /lazy dog.*machines/);
    } finally {
      real.close();
    }
  },
);

test(
  "VAD skips silence and keeps segment and word times in the original audio",
  { skip: noRealModel || (!REAL_VAD && `no ggml-silero-*.bin in ${CACHE}`) },
  async () => {
    const real = await WhisperModel.load(REAL_TINY_EN);
    try {
      // 40 s of silence first: without VAD, the speech is in window two.
      const pcm = await speech(SAID, 40);
      const result = await real.transcribe(pcm, {
        vad: { modelPath: join(CACHE, REAL_VAD!) },
        wordTimestamps: true,
      });
      const text = result.segments.map((s) => s.text).join(" ");
      assert.match(text, /lazy dog/i);
      const first = result.segments[0]!;
      assert.ok(first.start >= 39.5, `speech starts at ${first.start} s`);
      const lazy = result.segments
        .flatMap((s) => s.words ?? [])
        .find((w) => /lazy/i.test(w.text));
      assert.ok(lazy && lazy.start > 40 && lazy.end < pcm.length / 16000);
    } finally {
      real.close();
    }
  },
);
