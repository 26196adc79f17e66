/**
 * Decoding media to the audio whisper.cpp takes: 16 kHz mono 32-bit float
 * PCM. ffmpeg writes raw samples to its stdout and they are gathered in
 * memory as they come, so no temporary WAV file is ever written.
 *
 * The ffmpeg binary is the static build that ships inside the npm package
 * `@ffmpeg-installer/ffmpeg`: it arrives with `npm ci`, needs no network
 * and no system package, and is the same build on every machine.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

import { ConfigError, PermanentMediaError, TransientError } from "../errors.js";

/** Sample rate whisper.cpp expects. */
export const SAMPLE_RATE = 16_000;

/** Options of {@link decodeAudio}. */
export interface DecodeOptions {
  /** Called with the decoded fraction (0..1) when the duration is known. */
  onProgress?: (fraction: number) => void;
  /** Kills ffmpeg; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The ffmpeg to run. @default {@link ffmpegPath}() */
  ffmpeg?: string;
  /** How the media is named in error messages. @default the file path */
  label?: string;
}

/** Audio ready for whisper.cpp. */
export interface DecodedAudio {
  /** Mono samples at {@link SAMPLE_RATE} Hz, nominally in -1..1. */
  pcm: Float32Array;
  /** Length of the audio: samples / sample rate. */
  seconds: number;
}

let resolvedFfmpeg: string | undefined;

/**
 * Path of the ffmpeg binary inside `@ffmpeg-installer/ffmpeg`.
 *
 * @throws ConfigError when the package or its binary for this platform is
 *   missing: the installation is broken and a retry cannot help.
 */
export function ffmpegPath(): string {
  if (resolvedFfmpeg !== undefined) return resolvedFfmpeg;
  try {
    const require = createRequire(import.meta.url);
    const pkg = require("@ffmpeg-installer/ffmpeg") as { path: string };
    resolvedFfmpeg = pkg.path;
    return pkg.path;
  } catch (err) {
    // The package throws a bare string when its platform binary is absent.
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(
      `ffmpeg is not installed: @ffmpeg-installer/ffmpeg failed to load (${why}); reinstall durascribe with \`npm ci\` on this platform`,
      "E_FFMPEG_MISSING",
    );
  }
}

/**
 * Decodes the first audio stream of `file` to 16 kHz mono float PCM.
 * Progress is the audio decoded so far over the duration ffmpeg reports
 * for the input; it reaches 1 when decoding ends.
 *
 * @throws PermanentMediaError when the file is not media ffmpeg can read,
 *   is cut short, or has no audio stream ("no audio stream").
 * @throws TransientError when ffmpeg dies from a signal (out of memory).
 */
export async function decodeAudio(
  file: string,
  opts: DecodeOptions = {},
): Promise<DecodedAudio> {
  opts.signal?.throwIfAborted();
  const label = opts.label ?? file;
  const run = await runFfmpeg(opts.ffmpeg ?? ffmpegPath(), file, opts);
  if (run.code !== 0) throw failure(run, label);
  // ffmpeg decodes what there is of a cut-off file and exits 0: a
  // transcript of part of the talk must not pass for the whole one.
  if (run.partial) {
    throw new PermanentMediaError(
      `${label} is truncated: the media file ends before its streams do`,
      "E_MEDIA_TRUNCATED",
    );
  }

  const pcm = run.samples.finish();
  opts.onProgress?.(1);
  return { pcm, seconds: pcm.length / SAMPLE_RATE };
}

function ffmpegArgs(file: string): string[] {
  return [
    "-nostdin",
    "-hide_banner",
    "-nostats",
    "-i",
    file,
    // The first audio stream only: the raw f32le muxer takes one stream,
    // and a clear "matches no streams" tells us there is no audio at all.
    "-map",
    "0:a:0",
    "-ac",
    "1",
    "-ar",
    String(SAMPLE_RATE),
    "-c:a",
    "pcm_f32le",
    "-f",
    "f32le",
    "pipe:1",
  ];
}

interface FfmpegRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last part of ffmpeg's stderr: input description and errors. */
  stderr: string;
  /** ffmpeg said the file ends early ("partial file"). */
  partial: boolean;
  samples: SampleBuffer;
}

/** Keeps this much of ffmpeg's stderr, from the end, for error messages. */
const STDERR_KEEP = 16 * 1024;

function runFfmpeg(
  ffmpeg: string,
  file: string,
  opts: DecodeOptions,
): Promise<FfmpegRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ffmpegArgs(file), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const samples = new SampleBuffer();
    let stderr = "";
    let duration: number | undefined;
    let aborted = false;
    let partial = false;

    const onAbort = (): void => {
      aborted = true;
      child.kill("SIGKILL");
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      stderr = (stderr + text).slice(-STDERR_KEEP);
      partial ||= /partial file/.test(stderr);
      duration ??= parseDuration(stderr);
      if (duration !== undefined) samples.reserve(duration * SAMPLE_RATE);
    });
    child.stdout.on("data", (chunk: Buffer) => {
      samples.append(chunk);
      if (duration !== undefined && duration > 0 && opts.onProgress) {
        const decoded = samples.length / SAMPLE_RATE;
        opts.onProgress(Math.min(1, decoded / duration));
      }
    });

    child.once("error", (err) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(spawnFailure(ffmpeg, err));
    });
    // "close", not "exit": every byte of stdout has been read by then.
    child.once("close", (code, signal) => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (aborted) reject(abortReason(opts.signal));
      else resolve({ code, signal, stderr, partial, samples });
    });
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  // The caller chose the reason; whatever it is, it is what they await.
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

function spawnFailure(ffmpeg: string, err: Error): ConfigError {
  return new ConfigError(
    `cannot run ffmpeg at ${ffmpeg}: ${err.message}; reinstall durascribe with \`npm ci\``,
    "E_FFMPEG_MISSING",
    { cause: err },
  );
}

/** The input duration in seconds from ffmpeg's `Duration:` line. */
export function parseDuration(stderr: string): number | undefined {
  const match = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  if (match === null) return undefined;
  const [, h = "0", m = "0", s = "0"] = match;
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** Turns a failed ffmpeg run into the error a job execution reports. */
function failure(run: FfmpegRun, label: string): Error {
  if (run.signal !== null) {
    // A runner stops a job's whole process group: ffmpeg may hear it first.
    const why =
      run.signal === "SIGKILL"
        ? "; the machine may be out of memory"
        : "; the job is being stopped";
    return new TransientError(
      `ffmpeg was killed by ${run.signal} while decoding ${label}${why}`,
      "E_DECODE_KILLED",
    );
  }
  const streams = inputStreams(run.stderr);
  // ffmpeg reads a text file as ANSI art ("tty"): that is not media either.
  const notMedia =
    /Invalid data found when processing input/.test(run.stderr) ||
    /Input #0, tty,/.test(run.stderr) ||
    (streams.length === 0 && /matches no streams/.test(run.stderr));
  if (notMedia) {
    return new PermanentMediaError(
      `${label} is not a media file: ffmpeg cannot read it as audio or video`,
      "E_MEDIA_NOT_MEDIA",
    );
  }
  if (/matches no streams/.test(run.stderr)) {
    return new PermanentMediaError(
      `no audio stream in ${label} (it has ${streams.join(", ")} only)`,
      "E_MEDIA_NO_AUDIO",
    );
  }
  return new PermanentMediaError(
    `ffmpeg cannot decode ${label} (exit code ${run.code}): ${lastLine(run.stderr)}`,
    "E_DECODE",
  );
}

/** The kinds of the input's streams, such as `["video", "audio"]`. */
function inputStreams(stderr: string): string[] {
  const input = stderr.split(/^Output #0|^Stream mapping:/m)[0] ?? "";
  const kinds = [...input.matchAll(/Stream #0:\d+\S*: (\w+):/g)];
  return kinds.map((m) => (m[1] ?? "").toLowerCase());
}

function lastLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  return (lines.at(-1) ?? "").trim() || "no message";
}

/**
 * Raw f32le bytes gathered into one growing buffer. Sized up front from
 * the input's duration when known, so an hour of audio is not copied
 * over and over as it grows.
 */
class SampleBuffer {
  /** 1 GiB: about 4.6 hours of audio; longer media grows as it comes. */
  static readonly MAX = 1024 ** 3;

  private bytes = new Uint8Array(0);
  private used = 0;

  /** Samples gathered so far. */
  get length(): number {
    return Math.floor(this.used / 4);
  }

  /** Makes room for `samples` in all; a hint, never shrinks. */
  reserve(samples: number): void {
    // A corrupt header can claim any duration: trust it only so far.
    const want = Math.min(Math.ceil(samples) * 4, SampleBuffer.MAX);
    if (want > this.bytes.length) this.resize(want);
  }

  append(chunk: Uint8Array): void {
    const need = this.used + chunk.length;
    if (need > this.bytes.length) {
      this.resize(Math.max(need, Math.ceil(this.bytes.length * 1.5)));
    }
    this.bytes.set(chunk, this.used);
    this.used = need;
  }

  /** The samples, without copying them again. */
  finish(): Float32Array {
    // An ArrayBuffer from `new Uint8Array` starts at offset 0, so it is
    // aligned for a Float32Array view.
    return new Float32Array(this.bytes.buffer, 0, this.length);
  }

  private resize(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.used));
    this.bytes = next;
  }
}
