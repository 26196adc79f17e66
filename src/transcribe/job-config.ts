/**
 * Settings of the transcription job, validated once into frozen objects.
 * `durascribe job` takes them from the environment only, as a container
 * does; `durascribe transcribe` takes the same ones as flags, with the
 * environment as fallback. Only the CLI calls these, with process.env.
 */
import os from "node:os";
import path from "node:path";

import { ConfigError } from "../errors.js";
import { parseLogLevel, type LogLevel } from "../logger.js";
import {
  checkContainerName,
  parseStorageUrl,
  type StorageLocation,
} from "../storage/open.js";
import { DEFAULT_MAX_BYTES } from "./fetch.js";
import { FORMATS, parseFormats, type Format } from "./formats.js";

/** How whisper runs and what it writes; shared by `job` and `transcribe`. */
export interface TranscribeSettings {
  /** A catalogue name such as `tiny.en`, or a path to a ggml `.bin`. */
  readonly model: string;
  /** Cache folder of downloaded models. */
  readonly modelsDir: string;
  /** A language code such as `en`, or `auto` to detect it. */
  readonly language: string;
  readonly formats: readonly Format[];
  /** CPU threads whisper.cpp uses. */
  readonly threads: number;
  /** Translate the speech to English. */
  readonly translate: boolean;
  /** Word-level timings in the json format. */
  readonly wordTimestamps: boolean;
  /** Skip silence with whisper.cpp's Silero voice activity detection. */
  readonly vad: boolean;
  /** Largest media accepted, in bytes. */
  readonly maxBytes: number;
  readonly logLevel: LogLevel;
}

/** Settings of `durascribe job`. */
export interface JobConfig extends TranscribeSettings {
  /** VIDEO_URL: an http(s) URL, a local path or a `file:` URL. */
  readonly source: string;
  /** STORAGE_ACCOUNT_URL, parsed. */
  readonly storage: StorageLocation;
  /** STORAGE_CONTAINER_NAME: container, or sub-folder of a file: store. */
  readonly container: string;
  /** AZURE_STORAGE_CONNECTION_STRING, when set. */
  readonly connectionString: string | undefined;
  /** Name of the outputs without extension: `<base>.<format>`. */
  readonly base: string;
}

/** Environment variables, as process.env holds them. */
export type Env = Record<string, string | undefined>;

/** One setting's value and the flag or variable it came from. */
export interface Setting {
  readonly value: string;
  /** `--threads` or `DURASCRIBE_THREADS`, for messages. */
  readonly name: string;
}

/** Reads one setting: a flag when given, else an environment variable. */
export type Pick = (flag: string, envName: string) => Setting | undefined;

/** A {@link Pick} over the environment alone, as the job reads it. */
export function envPick(env: Env): Pick {
  return (_flag, name) => {
    const value = nonEmpty(env[name]);
    return value === undefined ? undefined : { value, name };
  };
}

/**
 * A {@link Pick} over parsed flags first, then the environment. A boolean
 * flag given without a value reads as `true`.
 */
export function flagPick(
  flags: Record<string, string | boolean | undefined>,
  env: Env,
): Pick {
  const fromEnv = envPick(env);
  return (flag, name) => {
    const value = flags[flag];
    if (value === true) return { value: "true", name: `--${flag}` };
    if (typeof value === "string") return { value, name: `--${flag}` };
    return fromEnv(flag, name);
  };
}

/**
 * Validates the job's environment.
 *
 * @throws ConfigError naming the variable and what is wrong with it.
 */
export function jobConfig(env: Env): JobConfig {
  const pick = envPick(env);
  const source = pick("", "VIDEO_URL")?.value;
  if (source === undefined) {
    throw new ConfigError(
      "VIDEO_URL is not set; give the media to transcribe as an http(s) URL, a local path or a file: URL",
      "E_CONFIG_SOURCE",
    );
  }

  return Object.freeze({
    ...transcribeSettings(pick, env),
    source,
    storage: parseStorageUrl(
      pick("", "STORAGE_ACCOUNT_URL")?.value ?? "file:transcripts",
    ),
    container: checkContainerName(
      pick("", "STORAGE_CONTAINER_NAME")?.value ?? "videos",
    ),
    connectionString: pick("", "AZURE_STORAGE_CONNECTION_STRING")?.value,
    base: transcriptBase(pick("", "STORAGE_BLOB_NAME")?.value, source),
  });
}

/**
 * The flags {@link transcribeSettings} reads, for the commands that take
 * them (`transcribe`, `run`).
 */
export const SETTINGS_FLAGS = {
  model: { type: "string" },
  "models-dir": { type: "string" },
  language: { type: "string" },
  formats: { type: "string" },
  threads: { type: "string" },
  translate: { type: "boolean" },
  "word-timestamps": { type: "boolean" },
  vad: { type: "boolean" },
  "max-bytes": { type: "string" },
  "log-level": { type: "string" },
} as const;

/**
 * Validates the whisper and output settings through `pick`, which the
 * job points at the environment and `transcribe` at its flags first.
 * `env` gives the defaults that depend on the machine (HOME).
 */
export function transcribeSettings(pick: Pick, env: Env): TranscribeSettings {
  const formats = pick("formats", "DURASCRIBE_FORMATS");
  return Object.freeze({
    model: pick("model", "DURASCRIBE_MODEL")?.value ?? "tiny.en",
    modelsDir: path.resolve(
      pick("models-dir", "DURASCRIBE_MODELS_DIR")?.value ??
        defaultModelsDir(env),
    ),
    language: parseLanguage(pick("language", "DURASCRIBE_LANGUAGE")),
    formats: Object.freeze(
      formats === undefined
        ? [...FORMATS]
        : parseFormats(formats.value, formats.name),
    ),
    threads: parseThreads(pick("threads", "DURASCRIBE_THREADS")),
    translate: parseBool(pick("translate", "DURASCRIBE_TRANSLATE")),
    wordTimestamps: parseBool(
      pick("word-timestamps", "DURASCRIBE_WORD_TIMESTAMPS"),
    ),
    vad: parseBool(pick("vad", "DURASCRIBE_VAD")),
    maxBytes: parseBytes(pick("max-bytes", "DURASCRIBE_MAX_BYTES")),
    logLevel: parseLevel(pick("log-level", "DURASCRIBE_LOG_LEVEL")),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === "" ? undefined : trimmed;
}

function defaultModelsDir(env: Env): string {
  const home = nonEmpty(env.HOME) ?? os.homedir();
  return path.join(home, ".cache", "durascribe", "models");
}

const TRANSCRIPT_EXTENSIONS = /\.(txt|srt|vtt|json)$/i;

/**
 * The outputs' base name: STORAGE_BLOB_NAME without a transcript
 * extension, or else the media's file name without its extension.
 *
 * @throws ConfigError when STORAGE_BLOB_NAME is not a relative name.
 */
export function transcriptBase(
  blobName: string | undefined,
  source: string,
): string {
  if (blobName === undefined) return baseFromSource(source);

  const base = blobName.replace(TRANSCRIPT_EXTENSIONS, "");
  const segments = base.split("/");
  const bad =
    base === "" ||
    base.startsWith("/") ||
    base.includes("\\") ||
    base.includes("\0") ||
    segments.includes("..") ||
    segments.includes("");
  if (bad) {
    throw new ConfigError(
      `STORAGE_BLOB_NAME "${blobName}" is not a usable name: give a relative name such as DEM520/transcript.txt, without "..", empty segments or backslashes`,
      "E_CONFIG_BLOB_NAME",
    );
  }
  return base;
}

/** `talk` for `https://host/media/talk.mp4?x=1` or `/data/talk.mp4`. */
function baseFromSource(source: string): string {
  let file = source.split(/[\\/]/).pop() ?? "";
  if (/^[a-z][a-z0-9+.-]+:/i.test(source)) {
    try {
      // Split before decoding, so an encoded "/" stays in the name.
      const last = new URL(source).pathname.split("/").pop() ?? "";
      file = decodeURIComponent(last);
    } catch {
      // Not a URL after all (or bad escapes): use it as a path.
    }
  }
  const base = file
    .replace(/\.[^.]*$/, "")
    .replace(/[\p{Cc}/\\:*?"<>|]/gu, "_")
    .trim();
  return base === "" || base === "." || base === ".." ? "transcript" : base;
}

function parseLanguage(setting: Setting | undefined): string {
  if (setting === undefined) return "auto";
  const language = setting.value.toLowerCase();
  // whisper.cpp knows which codes and names exist; this catches the rest.
  if (language === "auto" || /^[a-z]{2,20}$/.test(language)) return language;
  throw new ConfigError(
    `${setting.name} "${setting.value}" is not a language; give a code such as en, de or ja (or a name such as german), or auto to detect it`,
    "E_CONFIG_LANGUAGE",
  );
}

function parseThreads(setting: Setting | undefined): number {
  if (setting === undefined) return Math.min(8, os.availableParallelism());
  const threads = Number(setting.value);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ConfigError(
      `${setting.name} "${setting.value}" is not a whole number from 1 to 256`,
      "E_CONFIG_THREADS",
    );
  }
  return threads;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** `true`/`false` (also 1/0, yes/no, on/off); absent means false. */
export function parseBool(setting: Setting | undefined): boolean {
  if (setting === undefined) return false;
  const lower = setting.value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new ConfigError(
    `${setting.name} "${setting.value}" is not true or false`,
    "E_CONFIG_BOOLEAN",
  );
}

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * A byte count such as `10737418240`, `10GiB` or `500MB` (KB, MB, GB are
 * powers of 1000; K, KiB, M, MiB, G, GiB powers of 1024). Absent: 10 GiB.
 */
export function parseBytes(setting: Setting | undefined): number {
  if (setting === undefined) return DEFAULT_MAX_BYTES;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(setting.value);
  const unit = UNITS[(match?.[2] ?? "").toLowerCase()];
  const bytes = Math.floor(Number(match?.[1]) * (unit ?? NaN));
  if (match === null || unit === undefined || !(bytes > 0)) {
    throw new ConfigError(
      `${setting.name} "${setting.value}" is not a size; give bytes, or a number with KB, MB, GB, KiB, MiB or GiB`,
      "E_CONFIG_MAX_BYTES",
    );
  }
  return bytes;
}

function parseLevel(setting: Setting | undefined): LogLevel {
  return parseLogLevel(
    setting?.value,
    setting?.name ?? "DURASCRIBE_LOG_LEVEL",
    "E_CONFIG_LOG_LEVEL",
  );
}
