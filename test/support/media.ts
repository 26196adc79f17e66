/**
 * Test media made on the spot: speech synthesised by espeak-ng (Debian
 * package `espeak-ng`) and muxed by the project's own ffmpeg into
 * H.264/AAC MP4 files, the kind of file a recorded talk comes in.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

import { ffmpegPath } from "../../src/transcribe/decode.js";

const run = promisify(execFile);

/** Sentences to speak; plain words whisper transcribes reliably. */
export const SENTENCE =
  "The quick brown fox jumps over the lazy dog. Durable transcription keeps working when machines fail.";

/** Paragraphs that, spoken in turn, make long speech for benchmarks. */
const PARAGRAPHS = [
  "Every recorded talk deserves a transcript. When a conference ends, hundreds of sessions wait to be written down, and nobody wants to watch them all again.",
  "A durable workflow remembers what it has done. If a machine stops in the middle of the night, the work that was finished stays finished, and the rest starts again in the morning.",
  "Speech recognition turns sound into words. The model listens to thirty seconds at a time, guesses the words that were spoken, and moves on to the next part of the recording.",
  "Good tools do one thing well and fail clearly. A missing file should say which file is missing, and a broken network should be tried again before anyone is woken up.",
  "The weather on the coast was calm this week. Boats left the harbour early, the fish market was busy by noon, and the evening light stayed warm until late.",
  "Numbers help us decide. We measure how long each step takes, compare it with the time the model itself needs, and look for the overhead that hides in between.",
];

async function ffmpeg(args: string[]): Promise<void> {
  await run(ffmpegPath(), [
    "-nostdin",
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    ...args,
  ]);
}

/** Speaks `text` into a WAV file (22.05 kHz mono) and returns its path. */
export async function speechWav(
  dir: string,
  text: string,
  name = "speech.wav",
): Promise<string> {
  const file = path.join(dir, name);
  const script = path.join(dir, `${name}.txt`);
  await writeFile(script, text);
  await run("espeak-ng", ["-w", file, "-f", script]);
  return file;
}

/** Options of {@link speechMp4}. */
export interface SpeechMediaOptions {
  /** What is said. @default {@link SENTENCE} */
  text?: string;
  /** File name inside `dir`. @default `talk.mp4` */
  name?: string;
  /** Repeat the speech to this length in seconds; default: say it once. */
  seconds?: number;
}

/**
 * An H.264/AAC MP4: a small black picture and the spoken text, or the
 * text repeated up to `seconds`. Returns the file's path.
 */
export async function speechMp4(
  dir: string,
  opts: SpeechMediaOptions = {},
): Promise<string> {
  const wav = await speechWav(dir, opts.text ?? SENTENCE, "speech.wav");
  const file = path.join(dir, opts.name ?? "talk.mp4");
  const audio =
    opts.seconds === undefined
      ? ["-i", wav]
      : ["-stream_loop", "-1", "-i", wav, "-t", String(opts.seconds)];
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "color=c=black:s=160x120:r=5",
    ...audio,
    "-map",
    "0:v",
    "-map",
    "1:a",
    "-shortest",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-b:a",
    "64k",
    "-movflags",
    "+faststart",
    file,
  ]);
  return file;
}

/** An H.264 MP4 of `seconds` with no audio stream at all. */
export async function videoOnlyMp4(
  dir: string,
  seconds = 2,
  name = "silent-film.mp4",
): Promise<string> {
  const file = path.join(dir, name);
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `color=c=black:s=160x120:r=5:d=${seconds}`,
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    file,
  ]);
  return file;
}

/**
 * Long speech for benchmarks: the paragraphs above spoken one after the
 * other, looped and cut to exactly `seconds`, as AAC in an MP4 with a
 * small picture.
 */
export async function longSpeechMp4(
  dir: string,
  seconds: number,
  name = "long-talk.mp4",
): Promise<string> {
  return speechMp4(dir, { text: PARAGRAPHS.join("\n\n"), seconds, name });
}
