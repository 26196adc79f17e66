/**
 * The spoken corpus itself, with the real espeak-ng: long enough in every
 * voice and speed, and synthesised once per text, voice and speed.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { SAMPLE_RATE } from "../../src/transcribe/decode.js";
import {
  COMBINATIONS,
  PARAGRAPHS,
  SPEEDS,
  VOICES,
  combinationName,
  corpusAudio,
  speechUnavailable,
  speechWavCached,
  trimSilence,
} from "./corpus.js";
import { normaliseWords } from "./normalise.js";

const skip = (await speechUnavailable()) ?? false;

let dir = "";

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-corpus-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("the corpus has two voices at two speeds", () => {
  assert.equal(new Set(VOICES).size, 2);
  assert.equal(new Set(SPEEDS).size, 2);
  assert.equal(COMBINATIONS.length, 4);
});

test("the paragraphs mix numbers in digits and in words", () => {
  const text = PARAGRAPHS.join(" ");
  assert.ok(PARAGRAPHS.length >= 5);
  assert.match(text, /\d/);
  assert.match(text, /\b(twelve|twenty|hundred|thousand)\b/i);
  // Brackets would be dropped by the normaliser as non-speech markers.
  assert.doesNotMatch(text, /[[\]()]/);
});

test(
  "the corpus lasts at least three minutes in every voice and speed",
  { skip },
  async (t) => {
    for (const c of COMBINATIONS) {
      const audio = await corpusAudio(c);
      t.diagnostic(`${combinationName(c)}: ${audio.seconds.toFixed(1)} s`);
      assert.ok(
        audio.seconds >= 180,
        `${combinationName(c)}: ${audio.seconds} s`,
      );
      assert.equal(audio.pcm.length, audio.seconds * SAMPLE_RATE);
      assert.deepEqual(
        normaliseWords(audio.reference),
        normaliseWords(PARAGRAPHS.join(" ")),
      );
    }
  },
);

test(
  "a text is synthesised once per voice and speed, then read from the cache",
  { skip },
  async () => {
    const cache = path.join(dir, "cache");
    const text = "Three small boats left the harbor.";
    const first = await speechWavCached(text, COMBINATIONS[0]!, cache);
    const before = await stat(first);
    const again = await speechWavCached(text, COMBINATIONS[0]!, cache);
    assert.equal(again, first);
    assert.equal((await stat(again)).mtimeMs, before.mtimeMs);

    const faster = await speechWavCached(text, COMBINATIONS[1]!, cache);
    assert.notEqual(faster, first);
    assert.ok((await stat(faster)).size < before.size, "faster is shorter");
    // Only the finished WAV files stay: no text or temp files.
    assert.deepEqual(
      (await readdir(cache)).sort(),
      [first, faster].map((f) => path.basename(f)).sort(),
    );
  },
);

test("trimming cuts the silence around speech and nothing else", () => {
  const pcm = new Float32Array([0, 0, 1e-4, 0.2, 0, -0.3, 1e-4, 0]);
  assert.deepEqual([...trimSilence(pcm)], [0.2, 0, -0.3].map(Math.fround));
  assert.equal(trimSilence(new Float32Array(5)).length, 0);
});
