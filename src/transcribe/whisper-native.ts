/**
 * Loading durascribe's whisper.cpp addon (native/, built into build/native
 * by scripts/build-whisper.sh), the shape of what it exports, and the
 * process-wide settings (logging, build facts). whisper.ts re-exports what
 * the rest of durascribe needs; models go through WhisperModel.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";

/** Where `npm run build:native` puts the addon, relative to this module. */
export const DEFAULT_ADDON_PATH = fileURLToPath(
  new URL("../../../build/native/durascribe-whisper.node", import.meta.url),
);

/** Options of one native run; see options.cc for the checks. */
export interface NativeRunOptions {
  language?: string;
  threads?: number;
  translate?: boolean;
  noContext?: boolean;
  wordTimestamps?: boolean;
  beamSize?: number;
  prompt?: string;
  vadModelPath?: string;
  vadThreshold?: number;
  vadMinSpeechMs?: number;
  vadMinSilenceMs?: number;
  vadSpeechPadMs?: number;
  vadMaxSpeechSeconds?: number;
}

/** A word as the addon returns it; times in seconds. */
export interface NativeWord {
  start: number;
  end: number;
  text: string;
  probability: number;
}

/** A segment as the addon returns it; times in seconds. */
export interface NativeSegment {
  start: number;
  end: number;
  text: string;
  words?: NativeWord[];
}

/** whisper.cpp's whisper_get_timings: mean milliseconds per call. */
export interface WhisperTimings {
  sampleMs: number;
  encodeMs: number;
  decodeMs: number;
  batchdMs: number;
  promptMs: number;
}

/** What a native run resolves to. */
export interface NativeResult {
  segments: NativeSegment[];
  /** null when there was nothing to detect a language from. */
  language: string | null;
  /** Wall time of whisper_full, measured around the call. */
  whisperMs: number;
  timings: WhisperTimings | null;
  /** Present when VAD ran: the speech it found, in original seconds. */
  speech?: SpeechSpan[];
}

/** A stretch of audio, in seconds. */
export interface SpeechSpan {
  start: number;
  end: number;
}

/** Facts about a loaded model. */
export interface NativeModelInfo {
  path: string;
  loadMs: number;
  multilingual: boolean;
  /** whisper.cpp's name for the size: tiny, base, small, medium, large. */
  type: string;
  vocabSize: number;
  audioLayers: number;
  textLayers: number;
  mels: number;
  ftype: number;
}

/** The addon's Model class (one whisper_context). */
export interface NativeModel {
  transcribe(
    pcm: Float32Array,
    options: NativeRunOptions,
    onProgress?: (fraction: number) => void,
  ): Promise<NativeResult>;
  /** Aborts the run in flight, if any. */
  abort(): void;
  /** Drops the context (after the run in flight, if any). */
  free(): void;
  info(): NativeModelInfo;
}

/** The addon's exports. */
export interface WhisperAddon {
  version(): string;
  /** whisper_print_system_info(), e.g. `AVX2 = 1 | FMA = 1 | ...`. */
  systemInfo(): string;
  /** The code for a language code or English name, or null. */
  languageCode(name: string): string | null;
  setLogger(sink: ((level: string, text: string) => void) | null): void;
  loadModel(
    path: string,
    options?: { flashAttn?: boolean },
  ): Promise<NativeModel>;
}

const loaded = new Map<string, WhisperAddon>();

/**
 * The addon at `path` (default {@link DEFAULT_ADDON_PATH}), loaded once
 * per process.
 *
 * @throws ConfigError (`E_WHISPER_ADDON`) when it is not built or does not
 *   load, saying how to build it.
 */
export function loadWhisperAddon(path = DEFAULT_ADDON_PATH): WhisperAddon {
  const cached = loaded.get(path);
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new ConfigError(
      `the whisper.cpp addon is not built (no ${path}); build it with \`npm run build:native\` (needs cmake and a C++ compiler)`,
      "E_WHISPER_ADDON",
    );
  }
  let addon: WhisperAddon;
  try {
    addon = createRequire(import.meta.url)(path) as WhisperAddon;
  } catch (err) {
    throw new ConfigError(
      `the whisper.cpp addon at ${path} does not load (${(err as Error).message}); rebuild it with \`DURASCRIBE_NATIVE_FORCE=1 npm run build:native\``,
      "E_WHISPER_ADDON",
      { cause: err },
    );
  }
  loaded.set(path, addon);
  return addon;
}

/** The latest setWhisperLogger() call; older sinks fall silent. */
let currentLogger: object | undefined;

/**
 * Sends whisper.cpp's log lines to `logger` (its info lines at debug level,
 * as they are many), or silences them again when `logger` is undefined.
 * whisper.cpp logs process-wide, so this applies to every model.
 */
export function setWhisperLogger(
  logger: Logger | undefined,
  addonPath?: string,
): void {
  const addon = loadWhisperAddon(addonPath);
  const token = {};
  currentLogger = token;
  if (!logger) {
    addon.setLogger(null);
    return;
  }
  const log = logger.child({ component: "whisper.cpp" });
  let partial = "";
  addon.setLogger((level, text) => {
    // Lines queued before the logger was replaced still arrive; drop them.
    if (currentLogger !== token) return;
    // whisper.cpp and ggml sometimes build one line from several calls.
    partial += text;
    if (!partial.endsWith("\n")) return;
    const line = partial.trimEnd();
    partial = "";
    if (line === "") return;
    if (level === "error") log.error(line);
    else if (level === "warn") log.warn(line);
    else log.debug(line);
  });
}

/** whisper.cpp's version and the CPU features the addon was built with. */
export function whisperBuildInfo(addonPath?: string): {
  version: string;
  systemInfo: string;
} {
  const addon = loadWhisperAddon(addonPath);
  return { version: addon.version(), systemInfo: addon.systemInfo() };
}
