/**
 * whisper.cpp from Node: {@link WhisperModel} loads a ggml model into our
 * own N-API addon (native/) and transcribes 16 kHz mono PCM on a worker
 * thread, so the event loop stays free for progress and signals. It adds to
 * the addon the checks that give clear errors, one run at a time per model,
 * abort through an AbortSignal and progress that ends at 1.
 */
import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import {
  ConfigError,
  DurascribeError,
  EXIT_UNEXPECTED,
  TransientError,
} from "../errors.js";
import type { TranscriptSegment, TranscriptWord } from "./formats.js";
import {
  loadWhisperAddon,
  type NativeModel,
  type NativeModelInfo,
  type NativeResult,
  type NativeWord,
  type NativeRunOptions,
  type SpeechSpan,
  type WhisperAddon,
  type WhisperTimings,
} from "./whisper-native.js";

export type { SpeechSpan, WhisperTimings } from "./whisper-native.js";
export { setWhisperLogger, whisperBuildInfo } from "./whisper-native.js";

/** Samples per second whisper.cpp expects. */
export const WHISPER_SAMPLE_RATE = 16000;

/** Options of {@link WhisperModel.load}. */
export interface WhisperLoadOptions {
  /** The addon to use; default build/native/durascribe-whisper.node. */
  addonPath?: string;
  /** whisper.cpp's flash attention (its default, on). */
  flashAttn?: boolean;
}

/** Silero voice activity detection: transcribe only where there is speech. */
export interface WhisperVadOptions {
  /** A ggml Silero VAD model (such as ggml-silero-v5.1.2.bin). */
  modelPath: string;
  /** Speech probability threshold, 0..1 (whisper.cpp default 0.5). */
  threshold?: number;
  /** Shortest speech kept, in ms (default 250). */
  minSpeechMs?: number;
  /** Silence that ends speech, in ms (default 100). */
  minSilenceMs?: number;
  /** Padding around speech, in ms (default 30). */
  speechPadMs?: number;
  /** Longest speech segment before a forced split, in s (default none). */
  maxSpeechSeconds?: number;
}

/** Options of {@link WhisperModel.transcribe}. */
export interface WhisperTranscribeOptions {
  /** A code (`en`), an English name (`german`), or `auto` (default). */
  language?: string;
  /** CPU threads; default the available cores, at most 8. */
  threads?: number;
  /** Translate to English (multilingual models only). */
  translate?: boolean;
  /** Word timings from whisper.cpp's token timestamps. */
  wordTimestamps?: boolean;
  /** Skip silence with Silero VAD. */
  vad?: WhisperVadOptions | undefined;
  /** Do not condition each 30 s window on the text before it. */
  noContext?: boolean;
  /** Beam search of this width (2..8); default greedy decoding. */
  beamSize?: number;
  /** Text to prime the decoder with (names, spelling, style). */
  prompt?: string;
  /**
   * Fraction done, 0..1, never decreasing; called with 1 once the run has
   * succeeded. Errors it throws are ignored: they must not end the run.
   */
  onProgress?: (fraction: number) => void;
  /** Aborts the run; the promise then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** What a transcription found. */
export interface WhisperResult {
  /** Segments in time order; times in seconds from the start of the audio. */
  segments: TranscriptSegment[];
  /**
   * The language given or detected; undefined when there was nothing to
   * detect it from (under 0.1 s of audio, or VAD found no speech).
   */
  language: string | undefined;
  /** Wall time of whisper.cpp's whisper_full, measured in C++. */
  whisperMs: number;
  /** whisper.cpp's own mean time per step, when it kept them. */
  timings: WhisperTimings | null;
  /** Length of the audio given. */
  audioSeconds: number;
  /**
   * Where VAD found speech, in seconds of the audio given, in order; only
   * when VAD was asked for. Only these stretches were transcribed.
   */
  speech?: SpeechSpan[];
}

/** A loaded whisper.cpp model; close it when done. */
export class WhisperModel {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private running = false;

  private constructor(
    private readonly addon: WhisperAddon,
    private readonly native: NativeModel,
    /** Facts about the model, read once at load. */
    readonly info: Readonly<NativeModelInfo>,
  ) {}

  /**
   * Loads a ggml model file on a worker thread. No GPU is used.
   *
   * @throws ConfigError `E_MODEL_NOT_FOUND` when `path` is missing or not a
   *   file, `E_MODEL_INVALID` when whisper.cpp cannot read it, and
   *   `E_WHISPER_ADDON` when the addon is not built.
   */
  static async load(
    path: string,
    options: WhisperLoadOptions = {},
  ): Promise<WhisperModel> {
    const addon = loadWhisperAddon(options.addonPath);
    await requireFile(path, "whisper model", "E_MODEL_NOT_FOUND");
    let native: NativeModel;
    try {
      native = await addon.loadModel(path, { flashAttn: options.flashAttn });
    } catch (err) {
      throw new ConfigError((err as Error).message, "E_MODEL_INVALID", {
        cause: err,
      });
    }
    return new WhisperModel(addon, native, Object.freeze(native.info()));
  }

  /** True for a model that knows languages other than English. */
  get multilingual(): boolean {
    return this.info.multilingual;
  }

  /**
   * Transcribes `pcm` (16 kHz mono float samples). Runs on one model are
   * queued, one at a time. The samples must not be transferred or changed
   * until the promise settles.
   *
   * @throws ConfigError for an unknown language, a language or translation
   *   an English-only model cannot do, or a missing or unusable VAD model;
   *   the signal's reason when aborted; TransientError `E_WHISPER_ABORTED`
   *   when the model is closed during the run; DurascribeError
   *   `E_WHISPER_FAILED` when whisper.cpp fails.
   */
  async transcribe(
    pcm: Float32Array,
    options: WhisperTranscribeOptions = {},
  ): Promise<WhisperResult> {
    if (!(pcm instanceof Float32Array)) {
      throw new TypeError("transcribe expects a Float32Array of samples");
    }
    const native = await this.nativeOptions(options);
    const turn = this.queue.then(() => this.run(pcm, native, options));
    // The next run waits for this one to settle, never for it to succeed.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Frees the model. A run in flight is aborted and rejects with a
   * TransientError; queued runs reject without starting.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.running) this.native.abort();
    this.native.free();
  }

  private async run(
    pcm: Float32Array,
    native: NativeRunOptions,
    options: WhisperTranscribeOptions,
  ): Promise<WhisperResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.closed) throw closedError();

    const progress = new Progress(options.onProgress);
    const onAbort = (): void => this.native.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    this.running = true;
    try {
      const result = await this.native.transcribe(pcm, native, (f) =>
        progress.report(f),
      );
      progress.report(1);
      return toResult(result, pcm.length);
    } catch (err) {
      throw this.runError(err, signal);
    } finally {
      this.running = false;
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private runError(err: unknown, signal: AbortSignal | undefined): unknown {
    const code = (err as { code?: unknown }).code;
    const message = (err as Error).message;
    if (code === "E_WHISPER_ABORTED") {
      if (signal?.aborted) return signal.reason as unknown;
      return closedError();
    }
    if (code === "E_VAD_MODEL_INVALID") {
      return new ConfigError(message, code, { cause: err });
    }
    // The addon checks option ranges (beam size, VAD settings).
    if (err instanceof RangeError) {
      return new ConfigError(message, "E_CONFIG_WHISPER", { cause: err });
    }
    if (code === "E_WHISPER_FAILED") {
      return new DurascribeError(
        message,
        "E_WHISPER_FAILED",
        false,
        EXIT_UNEXPECTED,
        { cause: err },
      );
    }
    return err;
  }

  private async nativeOptions(
    o: WhisperTranscribeOptions,
  ): Promise<NativeRunOptions> {
    const native: NativeRunOptions = {
      language: this.languageOf(o.language),
      threads: o.threads ?? Math.min(8, availableParallelism()),
      translate: o.translate ?? false,
      wordTimestamps: o.wordTimestamps ?? false,
      noContext: o.noContext ?? false,
      beamSize: o.beamSize ?? 0,
    };
    if (native.translate && !this.multilingual) {
      throw new ConfigError(
        `the model ${this.info.path} is English-only and cannot translate; use a multilingual model (one without .en)`,
        "E_CONFIG_TRANSLATE",
      );
    }
    const threads = native.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new ConfigError(
        `threads must be a whole number of at least 1, not ${threads}`,
        "E_CONFIG_THREADS",
      );
    }
    if (o.prompt !== undefined) native.prompt = o.prompt;
    if (o.vad) await addVad(native, o.vad);
    return native;
  }

  private languageOf(language: string | undefined): string {
    const asked = (language ?? "auto").trim().toLowerCase();
    if (asked === "auto" || asked === "") return "auto";
    const code = this.addon.languageCode(asked);
    if (code === null) {
      throw new ConfigError(
        `unknown language "${language}"; give "auto" or a code such as en, de, fr`,
        "E_CONFIG_LANGUAGE",
      );
    }
    if (code !== "en" && !this.multilingual) {
      throw new ConfigError(
        `the model ${this.info.path} is English-only and cannot transcribe language "${language}"; use a multilingual model (one without .en)`,
        "E_CONFIG_LANGUAGE",
      );
    }
    return code;
  }
}

/** Reports progress never going back, and never lets a callback throw. */
class Progress {
  private last = -1;

  constructor(private readonly sink?: (fraction: number) => void) {}

  report(fraction: number): void {
    const f = Math.min(1, Math.max(0, fraction));
    if (!this.sink || f <= this.last) return;
    this.last = f;
    try {
      this.sink(f);
    } catch {
      // A failing progress display must not fail the transcription.
    }
  }
}

async function addVad(
  native: NativeRunOptions,
  vad: WhisperVadOptions,
): Promise<void> {
  await requireFile(vad.modelPath, "VAD model", "E_VAD_MODEL_NOT_FOUND");
  native.vadModelPath = vad.modelPath;
  if (vad.threshold !== undefined) native.vadThreshold = vad.threshold;
  if (vad.minSpeechMs !== undefined) native.vadMinSpeechMs = vad.minSpeechMs;
  if (vad.minSilenceMs !== undefined) {
    native.vadMinSilenceMs = vad.minSilenceMs;
  }
  if (vad.speechPadMs !== undefined) native.vadSpeechPadMs = vad.speechPadMs;
  if (vad.maxSpeechSeconds !== undefined) {
    native.vadMaxSpeechSeconds = vad.maxSpeechSeconds;
  }
}

async function requireFile(
  path: string,
  what: string,
  code: string,
): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ConfigError(`${what} not found: ${path}`, code);
  if (!info.isFile()) {
    throw new ConfigError(`${what} ${path} is not a file`, code);
  }
}

function closedError(): TransientError {
  return new TransientError(
    "the transcription was aborted: the whisper model was closed",
    "E_WHISPER_ABORTED",
  );
}

function toResult(result: NativeResult, samples: number): WhisperResult {
  const audioSeconds = samples / WHISPER_SAMPLE_RATE;
  // whisper.cpp times the last window as if it were a full 30 s.
  const clamp = (t: number): number => Math.min(t, audioSeconds);
  return {
    segments: result.segments.map((s) => {
      const segment: TranscriptSegment = {
        start: clamp(s.start),
        end: clamp(s.end),
        text: s.text,
      };
      if (s.words) segment.words = s.words.map((w) => toWord(w, clamp));
      return segment;
    }),
    language: result.language ?? undefined,
    whisperMs: result.whisperMs,
    timings: result.timings,
    audioSeconds,
    ...(result.speech ? { speech: result.speech } : {}),
  };
}

function toWord(w: NativeWord, clamp: (t: number) => number): TranscriptWord {
  return {
    start: clamp(w.start),
    end: clamp(w.end),
    text: w.text,
    probability: w.probability,
  };
}
