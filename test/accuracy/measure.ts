/**
 * Transcribing the spoken corpus with a real model and scoring it: what
 * the accuracy tests assert on and `npm run bench:accuracy` prints. Also
 * where the real models are: the folder test/support/prepare-assets.ts
 * fills (DURASCRIBE_MODELS_DIR, or the default cache folder).
 */
import { existsSync } from "node:fs";

import {
  cachedModelPath,
  defaultModelsDir,
  listCachedModels,
  type CachedModel,
} from "../../src/models/cache.js";
import { findVadModel } from "../../src/models/vad.js";
import { DEFAULT_ADDON_PATH } from "../../src/transcribe/whisper-native.js";
import type {
  WhisperModel,
  WhisperTranscribeOptions,
} from "../../src/transcribe/whisper.js";
import { combinationName, type CorpusAudio } from "./corpus.js";
import { errorRate, textErrors, type WordErrors } from "./wer.js";

/** The model cache the test assets are in. */
export const MODELS_DIR =
  process.env.DURASCRIBE_MODELS_DIR ?? defaultModelsDir();

/** Where tiny.en is in `dir`. */
export function tinyEnPath(dir = MODELS_DIR): string {
  return cachedModelPath(dir, "tiny.en");
}

/** The Silero VAD model in `dir` (checksum checked), if it is there. */
export function vadModelPath(dir = MODELS_DIR): Promise<string | undefined> {
  return findVadModel(dir);
}

/** Every whisper model in `dir`: its ggml-*.bin files but the VAD ones. */
export async function whisperModels(dir = MODELS_DIR): Promise<CachedModel[]> {
  const all = await listCachedModels(dir);
  return all.filter((m) => !/^silero/i.test(m.name));
}

/** Why the addon cannot run here, or undefined when it can. */
export function addonMissing(): string | undefined {
  return existsSync(DEFAULT_ADDON_PATH)
    ? undefined
    : `the whisper.cpp addon is not built (${DEFAULT_ADDON_PATH}); run npm run build:native`;
}

/** How one transcription of the corpus went. */
export interface Measured {
  readonly audio: CorpusAudio;
  readonly errors: WordErrors;
  /** Word error rate, 0..(can exceed 1). */
  readonly wer: number;
  /** Wall time of the transcription, in seconds. */
  readonly wallSeconds: number;
  /** whisper.cpp's own time (whisper_full), in seconds. */
  readonly whisperSeconds: number;
  /** What was heard: the segments' text joined. */
  readonly transcript: string;
}

/** Transcribes `audio` with `model` and scores it against its text. */
export async function measure(
  model: WhisperModel,
  audio: CorpusAudio,
  options: WhisperTranscribeOptions = {},
): Promise<Measured> {
  const started = performance.now();
  const result = await model.transcribe(audio.pcm, {
    language: "en",
    ...options,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const transcript = result.segments.map((s) => s.text.trim()).join(" ");
  const errors = textErrors(audio.reference, transcript);
  return {
    audio,
    errors,
    wer: errorRate(errors),
    wallSeconds,
    whisperSeconds: result.whisperMs / 1000,
    transcript,
  };
}

/** A percentage with one decimal: "7.3%". */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** "en-us at 150 wpm: WER 7.3% (12 sub, 3 del, 2 ins of 604 words)". */
export function describeErrors(name: string, e: WordErrors): string {
  return `${name}: WER ${percent(errorRate(e))} (${e.substitutions} sub, ${e.deletions} del, ${e.insertions} ins of ${e.words} words)`;
}

/** {@link describeErrors} of one measurement, named by its voice and speed. */
export function describeMeasured(m: Measured): string {
  return describeErrors(combinationName(m.audio.combination), m.errors);
}
