/**
 * The accuracy corpus: English paragraphs written for these tests (plain
 * prose, varied words, numbers both in digits and in words), spoken by
 * espeak-ng in two voices at two speeds. Each paragraph is synthesised
 * once per voice, speed and espeak-ng version; the WAV files are kept in a
 * cache folder named by the hash of those, so reruns only decode them.
 *
 * espeak-ng is the Debian package `espeak-ng`; where it is missing the
 * tests that need speech skip, saying so.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { SAMPLE_RATE, decodeAudio } from "../../src/transcribe/decode.js";

const run = promisify(execFile);

/**
 * The paragraphs, in American spelling (whisper's English spelling).
 * Years are digits: the normaliser does not read "nineteen oh five".
 */
export const PARAGRAPHS: readonly string[] = [
  "The lighthouse on the northern cape was built in 1871, and for almost a century a keeper climbed its one hundred and twelve steps every evening to light the lamp. The last keeper, a quiet woman named Ruth, kept a notebook of every ship that passed. She wrote down the name, the hour and the direction of the wind in small, careful letters.",
  "The town was founded by twelve families who had walked west for nearly four months. By 1900 it had a school, two churches and a population of about 3,500 people. Today more than twenty-five thousand people live there, and the old stone bridge over the river is the third oldest in the state.",
  "To bake the bread, mix four cups of flour with two teaspoons of salt and one packet of yeast. Add warm water slowly until the dough feels soft but not sticky. Let it rest for 45 minutes, then shape it into a round loaf and bake it at 425 degrees for about half an hour, until the crust sounds hollow when you tap it.",
  "Our train left the city at 7:15 in the morning and reached the coast just after noon. The journey covered two hundred and eighty miles, with 6 stops along the way. At the second station a family with three small children and a very patient dog joined our car, and the children spent the rest of the trip counting cows in the fields.",
  "Bees visit thousands of flowers every day, and a single hive can hold as many as sixty thousand workers in the middle of summer. Each worker lives only five or six weeks. In that short life she cleans the hive, feeds the young, guards the entrance and finally flies out to gather nectar from gardens up to 3 miles away.",
  "In the final match of the season, the home team was losing by two goals at half time. The coach changed nothing, but he told the players to stay calm and keep the ball moving. They scored in the 61st minute and again in the 78th, and the winning goal came from a young defender in the last minute of the game.",
  "The city library opened a new reading room last spring. It has forty-two desks, large windows facing the park and a wall of maps that show how the streets have changed over the years. Students come in the afternoon to study, while older visitors prefer the mornings, when the room is quiet and the light is soft.",
  "The weather in the mountains can change in minutes. A clear sky at breakfast may turn into rain and strong wind before lunch, so experienced walkers always carry a warm jacket, a map and enough water for the whole day. The highest peak in the range rises to 9,800 feet, and its summit is covered with snow for eight months of the year.",
  "When the old factory closed, the building stood empty for almost a decade. Then a group of artists rented the ground floor for a small monthly fee and turned it into studios. Within five years there were more than 30 workshops, a cafe and a weekend market, and the street that everyone used to avoid became one of the busiest in the neighborhood.",
  "Every autumn the school holds a race around the lake. Last year 214 runners took part, the youngest only eight years old and the oldest seventy-three. The course is just under four miles long, and the fastest time was 21 minutes. Most people, though, come for the soup and the music at the finish line rather than for the medals.",
  "Learning a new language as an adult takes patience. Words that seem simple on paper can be hard to hear in a fast conversation, and grammar rules often have exceptions that nobody warned you about. The most useful habit is to listen a little every day, even for ten minutes, and to speak without worrying too much about mistakes.",
];

/** espeak-ng voices, as `espeak-ng --voices=en` lists them. */
export const VOICES: readonly string[] = ["en-us", "en-gb"];

/** Speaking rates in words per minute (espeak-ng `-s`; its default is 175). */
export const SPEEDS: readonly number[] = [150, 185];

/** One way of speaking the corpus. */
export interface Combination {
  readonly voice: string;
  readonly speed: number;
}

/** Every voice at every speed. */
export const COMBINATIONS: readonly Combination[] = VOICES.flatMap((voice) =>
  SPEEDS.map((speed) => ({ voice, speed })),
);

/** "en-us at 150 wpm". */
export function combinationName(c: Combination): string {
  return `${c.voice} at ${c.speed} wpm`;
}

/** Silence between paragraphs in the spoken corpus, in seconds. */
export const PARAGRAPH_GAP = 0.8;

/** Where synthesised WAV files are kept between runs. */
export const SPEECH_CACHE = path.join(os.tmpdir(), "durascribe-speech-cache");

/** Samples quieter than this (about -60 dBFS) count as silence when trimming. */
const SILENCE = 1e-3;

let espeakVersion: Promise<string> | undefined;

/** espeak-ng's version line; rejects when espeak-ng is not installed. */
function espeak(): Promise<string> {
  espeakVersion ??= run("espeak-ng", ["--version"]).then((r) =>
    r.stdout.trim(),
  );
  return espeakVersion;
}

/** Why speech cannot be synthesised here, or undefined when it can. */
export async function speechUnavailable(): Promise<string | undefined> {
  try {
    await espeak();
    return undefined;
  } catch (err) {
    return `espeak-ng cannot run (${(err as Error).message.split("\n")[0]}); install the Debian package espeak-ng`;
  }
}

/**
 * A WAV file of `text` spoken by espeak-ng, from the cache when the same
 * text, voice, speed and espeak-ng version were spoken before.
 */
export async function speechWavCached(
  text: string,
  c: Combination,
  cacheDir = SPEECH_CACHE,
): Promise<string> {
  const version = await espeak();
  const key = createHash("sha256")
    .update(JSON.stringify([version, c.voice, c.speed, text]))
    .digest("hex")
    .slice(0, 32);
  const file = path.join(cacheDir, `${key}.wav`);
  if (await isFile(file)) return file;

  await mkdir(cacheDir, { recursive: true });
  // Two runs may fill the cache at once: each writes its own temp files
  // and the rename makes a WAV appear whole or not at all.
  const temp = path.join(cacheDir, `.${key}.${randomBytes(4).toString("hex")}`);
  try {
    await writeFile(`${temp}.txt`, text);
    await run("espeak-ng", [
      ...["-v", c.voice, "-s", String(c.speed)],
      ...["-w", `${temp}.wav`, "-f", `${temp}.txt`],
    ]);
    await rename(`${temp}.wav`, file);
  } finally {
    await rm(`${temp}.txt`, { force: true });
    await rm(`${temp}.wav`, { force: true });
  }
  return file;
}

async function isFile(file: string): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() === true;
}

/**
 * `text` spoken, as the 16 kHz mono samples whisper.cpp takes (decoded by
 * the job's own ffmpeg decoder), with the silence espeak-ng leaves before
 * and after the speech cut off: the speech starts at the first sample.
 */
export async function speechPcm(
  text: string,
  c: Combination,
): Promise<Float32Array> {
  const { pcm } = await decodeAudio(await speechWavCached(text, c));
  return trimSilence(pcm);
}

/** `pcm` without its leading and trailing silence. */
export function trimSilence(pcm: Float32Array): Float32Array {
  let start = 0;
  while (start < pcm.length && Math.abs(pcm[start]!) < SILENCE) start++;
  let end = pcm.length;
  while (end > start && Math.abs(pcm[end - 1]!) < SILENCE) end--;
  return pcm.subarray(start, end);
}

/** `seconds` of digital silence. */
export function silence(seconds: number): Float32Array {
  return new Float32Array(Math.round(seconds * SAMPLE_RATE));
}

/** The parts one after the other. */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The whole corpus spoken one way. */
export interface CorpusAudio {
  readonly combination: Combination;
  /** Every paragraph in turn, {@link PARAGRAPH_GAP} apart. */
  readonly pcm: Float32Array;
  /** What is said: the paragraphs joined. */
  readonly reference: string;
  readonly seconds: number;
}

/** The corpus spoken in voice and speed `c`. */
export async function corpusAudio(c: Combination): Promise<CorpusAudio> {
  const parts: Float32Array[] = [];
  for (const [i, text] of PARAGRAPHS.entries()) {
    if (i > 0) parts.push(silence(PARAGRAPH_GAP));
    parts.push(await speechPcm(text, c));
  }
  const pcm = concat(parts);
  return {
    combination: c,
    pcm,
    reference: PARAGRAPHS.join("\n\n"),
    seconds: pcm.length / SAMPLE_RATE,
  };
}
