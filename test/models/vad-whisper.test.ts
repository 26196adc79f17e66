import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { TestContext } from "node:test";

import { convertSileroWheel } from "../../src/models/vad.js";
import { SAMPLE_RATE, decodeAudio } from "../../src/transcribe/decode.js";
import { DEFAULT_ADDON_PATH } from "../../src/transcribe/whisper-native.js";
import { WhisperModel } from "../../src/transcribe/whisper.js";
import { writeEmptyModel } from "../support/empty-model.js";
import { ASSETS_DIR } from "../support/assets.js";
import { speechWav } from "../support/media.js";

/*
 * The converted Silero model in whisper.cpp itself (our addon): its VAD
 * must find the speech in audio padded with silence, and skip the silence.
 */

const WHEEL = join(ASSETS_DIR, "silero_vad-6.2.0-py3-none-any.whl");
const TINY_EN = join(
  homedir(),
  ".cache",
  "durascribe",
  "models",
  "ggml-tiny.en.bin",
);

/** Why the tests cannot run here, or undefined when they can. */
const missing = !existsSync(DEFAULT_ADDON_PATH)
  ? `the whisper.cpp addon is not built (${DEFAULT_ADDON_PATH}); run npm run build:native`
  : !existsSync(WHEEL)
    ? `no silero-vad wheel at ${WHEEL}; fetch it with: python3 -m pip download silero-vad==6.2.0 --no-deps -d ${join(WHEEL, "..")}`
    : undefined;

/**
 * A run should take seconds; the limit turns a VAD that crawls (as
 * whisper.cpp's built-in one did on 4 threads of a busy 2-core machine)
 * into a clear failure.
 */
const LIMIT = { timeout: 120_000 };

/** Where speech is in the padded audio, in seconds. */
interface Span {
  start: number;
  end: number;
}

let dir = "";
let vadModel = "";
let padded: Float32Array = new Float32Array(0);
let speech: Span[] = [];

before(async () => {
  if (missing) return;
  dir = await mkdtemp(join(tmpdir(), "durascribe-vad-whisper-"));
  const made = await convertSileroWheel(WHEEL, dir);
  vadModel = join(dir, "ggml-silero-v6.2.0.bin");
  await writeFile(vadModel, made.model);

  const wav = await speechWav(
    dir,
    "The quick brown fox jumps over the lazy dog.",
  );
  const { pcm } = await decodeAudio(wav);
  ({ pcm: padded, speech } = padWithSilence(pcm, [3, 4, 2]));
});

after(async () => {
  if (missing) return;
  await rm(dir, { recursive: true, force: true });
});

/** Silence of each length in `gaps` (s), with `pcm` between each two. */
function padWithSilence(
  pcm: Float32Array,
  gaps: number[],
): { pcm: Float32Array; speech: Span[] } {
  const parts: Float32Array[] = [];
  const spans: Span[] = [];
  let at = 0;
  gaps.forEach((gap, i) => {
    parts.push(new Float32Array(gap * SAMPLE_RATE));
    at += gap * SAMPLE_RATE;
    if (i === gaps.length - 1) return;
    parts.push(pcm);
    spans.push({
      start: at / SAMPLE_RATE,
      end: (at + pcm.length) / SAMPLE_RATE,
    });
    at += pcm.length;
  });
  const out = new Float32Array(at);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return { pcm: out, speech: spans };
}

/** The speech the VAD found in one run, and how much of the audio it kept. */
async function vadSegments(
  model: WhisperModel,
  pcm: Float32Array,
): Promise<{ spans: Span[]; kept: number }> {
  const result = await model.transcribe(pcm, {
    language: "en",
    vad: { modelPath: vadModel },
  });
  const spans = result.speech ?? [];
  const kept = spans.reduce((sum, s) => sum + (s.end - s.start), 0);
  return { spans, kept: kept / result.audioSeconds };
}

async function emptyWhisper(t: TestContext): Promise<WhisperModel> {
  const path = join(dir, "empty.bin");
  await writeEmptyModel(path);
  const model = await WhisperModel.load(path);
  t.after(() => model.close());
  return model;
}

void test(
  "whisper.cpp's VAD with the converted model finds each stretch of speech",
  LIMIT,
  async (t) => {
    if (missing) return t.skip(missing);
    const model = await emptyWhisper(t);

    const { spans, kept } = await vadSegments(model, padded);

    assert.equal(spans.length, speech.length, JSON.stringify(spans));
    spans.forEach((span, i) => {
      // Silero marks speech a little inside espeak's own leading and trailing quiet.
      assert.ok(span.start >= speech[i]!.start - 0.25, `start ${span.start}`);
      assert.ok(span.end <= speech[i]!.end + 0.25, `end ${span.end}`);
      assert.ok(
        span.end - span.start >= 0.6 * (speech[i]!.end - speech[i]!.start),
      );
    });
    assert.ok(kept < 0.5, `kept ${kept} of the audio`);
  },
);

void test(
  "whisper.cpp's VAD with the converted model finds no speech in silence",
  LIMIT,
  async (t) => {
    if (missing) return t.skip(missing);
    const model = await emptyWhisper(t);

    const { spans } = await vadSegments(
      model,
      new Float32Array(5 * SAMPLE_RATE),
    );

    assert.deepEqual(spans, []);
  },
);

void test(
  "a real model with VAD transcribes the speech at its place in the audio",
  LIMIT,
  async (t) => {
    if (missing) return t.skip(missing);
    if (!existsSync(TINY_EN)) {
      return t.skip(
        `no real whisper model at ${TINY_EN} (durascribe models pull tiny.en)`,
      );
    }
    const model = await WhisperModel.load(TINY_EN);
    t.after(() => model.close());

    const result = await model.transcribe(padded, {
      language: "en",
      vad: { modelPath: vadModel },
    });

    const text = result.segments
      .map((s) => s.text)
      .join(" ")
      .toLowerCase();
    assert.match(text, /quick/);
    assert.match(text, /lazy dog/);
    assert.ok(
      result.segments[0]!.start >= speech[0]!.start - 0.5,
      JSON.stringify(result.segments),
    );
  },
);
