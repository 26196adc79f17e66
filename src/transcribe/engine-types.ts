/**
 * What the job needs from a speech recogniser, kept apart from the
 * whisper.cpp addon so the pipeline (job.ts) reads on its own and a
 * caller decides how models are loaded and shared.
 */
import type { TranscriptSegment } from "./formats.js";

/** Options of one transcription run. */
export interface RecogniseOptions {
  /** A language code, or `auto` to detect it. */
  language?: string;
  threads?: number;
  translate?: boolean;
  wordTimestamps?: boolean;
  /** Skip silence with this Silero VAD model. */
  vad?: { modelPath: string } | undefined;
  /** Fraction done, 0..1. */
  onProgress?: (fraction: number) => void;
  /** Stops the run; it rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** What a run found. */
export interface RecogniseResult {
  segments: TranscriptSegment[];
  /** The language given or detected. */
  language: string | undefined;
  /** Time whisper.cpp itself spent, in milliseconds. */
  whisperMs: number;
}

/** A loaded model. */
export interface Engine {
  transcribe(
    pcm: Float32Array,
    opts: RecogniseOptions,
  ): Promise<RecogniseResult>;
}

/** A loaded model on loan to one job execution. */
export interface EngineLease {
  readonly engine: Engine;
  /** Hands the model back: closes it, or keeps it for the next file. */
  release(): void;
}

/** A model found on disk, not loaded yet. */
export interface ResolvedEngine {
  /** Model name for the manifest and the transcript, such as `tiny.en`. */
  readonly name: string;
  /** The Silero VAD model, when voice activity detection is on. */
  readonly vadModelPath: string | undefined;
  /** Loads the model (or lends one already loaded). */
  load(): Promise<EngineLease>;
}

/** What the job asks of {@link EngineProvider.resolve}. */
export interface EngineRequest {
  /** A catalogue name or a path to a ggml `.bin`. */
  model: string;
  modelsDir: string;
  vad: boolean;
}

/** Finds and loads models. */
export interface EngineProvider {
  /**
   * Finds the model (and the VAD model when asked) without loading it.
   *
   * @throws ConfigError when a model is missing, saying how to get it.
   */
  resolve(request: EngineRequest): Promise<ResolvedEngine>;
}
