/**
 * `npm run bench:accuracy`: word error rate and real-time factor of every
 * whisper model in the model cache (each ggml-*.bin but the Silero VAD
 * ones) on the accuracy corpus of test/accuracy: the paragraphs spoken by
 * espeak-ng in each voice and speed, each voice and speed transcribed as
 * one long recording, in English.
 *
 * The real-time factor is the wall time of the transcription over the
 * length of the audio: 0.1 means ten times faster than real time. It moves
 * with whatever else the machine runs; the word error rate does not.
 *
 * Flags: --threads <n> (default: the cores, at most 8), --models-dir
 * <dir> (default DURASCRIBE_MODELS_DIR or ~/.cache/durascribe/models),
 * --model <name> (repeatable; default every model), --vad (Silero VAD
 * on), --beam <n> (beam search; default greedy, as the job decodes).
 */
import os from "node:os";
import { parseArgs } from "node:util";

import type { CachedModel } from "../src/models/cache.js";
import { WhisperModel, whisperBuildInfo } from "../src/transcribe/whisper.js";
import type { WhisperTranscribeOptions } from "../src/transcribe/whisper.js";
import {
  COMBINATIONS,
  PARAGRAPHS,
  corpusAudio,
  speechUnavailable,
  type CorpusAudio,
} from "../test/accuracy/corpus.js";
import {
  MODELS_DIR,
  addonMissing,
  measure,
  percent,
  vadModelPath,
  whisperModels,
  type Measured,
} from "../test/accuracy/measure.js";
import { normaliseWords } from "../test/accuracy/normalise.js";
import { errorRate, sumErrors, type WordErrors } from "../test/accuracy/wer.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string" },
    "models-dir": { type: "string", default: MODELS_DIR },
    model: { type: "string", multiple: true },
    vad: { type: "boolean", default: false },
    beam: { type: "string" },
  },
});
const threads = Number(
  values.threads ?? Math.min(8, os.availableParallelism()),
);
const modelsDir = values["models-dir"];

/** One row of the table. */
interface Row {
  model: string;
  voice: string;
  wpm: string;
  errors: WordErrors;
  audioSeconds: number;
  wallSeconds: number;
}

const HEADER = [
  "model",
  "voice",
  "wpm",
  "words",
  "sub",
  "del",
  "ins",
  "WER",
  "audio s",
  "wall s",
  "RTF",
];

function cells(r: Row): string[] {
  return [
    r.model,
    r.voice,
    r.wpm,
    String(r.errors.words),
    String(r.errors.substitutions),
    String(r.errors.deletions),
    String(r.errors.insertions),
    percent(errorRate(r.errors)),
    r.audioSeconds.toFixed(1),
    r.wallSeconds.toFixed(1),
    (r.wallSeconds / r.audioSeconds).toFixed(3),
  ];
}

/** Prints rows as a table: text columns to the left, figures to the right. */
function printTable(rows: readonly string[][]): void {
  const widths = HEADER.map((_, i) =>
    Math.max(...rows.map((r) => r[i]!.length)),
  );
  for (const row of rows) {
    const line = row.map((cell, i) =>
      i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!),
    );
    console.log(line.join("  "));
  }
}

async function options(): Promise<WhisperTranscribeOptions> {
  const o: WhisperTranscribeOptions = { threads };
  if (values.beam !== undefined) o.beamSize = Number(values.beam);
  if (values.vad) {
    const vad = await vadModelPath(modelsDir);
    if (vad === undefined) {
      throw new Error(`--vad: no Silero VAD model in ${modelsDir}`);
    }
    o.vad = { modelPath: vad };
  }
  return o;
}

/** Transcribes every voice and speed with one model; one row each, then all. */
async function benchModel(
  found: CachedModel,
  corpus: readonly CorpusAudio[],
  opts: WhisperTranscribeOptions,
): Promise<Row[]> {
  const model = await WhisperModel.load(found.path);
  const runs: Measured[] = [];
  try {
    for (const audio of corpus) runs.push(await measure(model, audio, opts));
  } finally {
    model.close();
  }
  const rows = runs.map((m) => ({
    model: found.name,
    voice: m.audio.combination.voice,
    wpm: String(m.audio.combination.speed),
    errors: m.errors,
    audioSeconds: m.audio.seconds,
    wallSeconds: m.wallSeconds,
  }));
  const sum = (f: (r: Row) => number): number =>
    rows.reduce((n, r) => n + f(r), 0);
  rows.push({
    model: found.name,
    voice: "all",
    wpm: "",
    errors: sumErrors(rows.map((r) => r.errors)),
    audioSeconds: sum((r) => r.audioSeconds),
    wallSeconds: sum((r) => r.wallSeconds),
  });
  return rows;
}

async function main(): Promise<void> {
  const cannot = addonMissing() ?? (await speechUnavailable());
  if (cannot !== undefined) throw new Error(cannot);
  const wanted = values.model;
  const models = (await whisperModels(modelsDir)).filter(
    (m) => wanted === undefined || wanted.includes(m.name),
  );
  if (models.length === 0) {
    throw new Error(
      `no whisper model in ${modelsDir}${wanted ? ` named ${wanted.join(", ")}` : ""}; get one with durascribe models pull tiny.en`,
    );
  }
  const opts = await options();

  const corpus: CorpusAudio[] = [];
  for (const c of COMBINATIONS) corpus.push(await corpusAudio(c));
  const minutes = corpus.reduce((n, a) => n + a.seconds, 0) / 60;
  const words = normaliseWords(PARAGRAPHS.join(" ")).length;
  console.log(
    `corpus: ${PARAGRAPHS.length} paragraphs, ${words} words, ${corpus.length} voices and speeds, ${minutes.toFixed(1)} min of audio`,
  );
  console.log(
    `whisper.cpp ${whisperBuildInfo().version}, ${threads} thread${threads === 1 ? "" : "s"}, ${values.beam ? `beam ${values.beam}` : "greedy"}, VAD ${values.vad ? "on" : "off"}, ${os.availableParallelism()} cores, models in ${modelsDir}`,
  );

  const rows: string[][] = [HEADER];
  for (const found of models) {
    try {
      const done = await benchModel(found, corpus, opts);
      rows.push(...done.map(cells));
      const all = done.at(-1)!;
      console.log(
        `${found.name}: WER ${percent(errorRate(all.errors))}, RTF ${(all.wallSeconds / all.audioSeconds).toFixed(3)}`,
      );
    } catch (err) {
      console.log(`${found.name}: skipped: ${(err as Error).message}`);
    }
  }
  console.log("");
  printTable(rows);
}

await main();
