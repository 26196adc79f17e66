/**
 * `npm run bench:transcribe`: what the job costs on top of whisper.cpp.
 * It synthesises a 10-minute talk (espeak-ng paragraphs, looped, muxed as
 * H.264/AAC MP4), runs `durascribe job` on it as its own process (as a
 * runner would), then runs whisper.cpp alone on the same audio with the
 * same model and threads in this process, and prints the job's wall time,
 * real-time factor, whisper.cpp's own time and the overhead between them.
 *
 * Flags: --seconds 600, --model <name or .bin> (default tiny.en from the
 * cache, else a model without tensors, and it says so), --threads <n>
 * (default: the job's default), --runs 1 (job and whisper.cpp alone, in
 * turn; medians and ranges when more than one).
 *
 * The target figure is the job's wall time minus whisper.cpp's own time
 * inside that same job: both see whatever else the machine runs. The
 * comparison with whisper.cpp alone is printed too, but on a shared
 * machine it moves with the load between the two runs.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { resolveModel } from "../src/models/resolve.js";
import { decodeAudio } from "../src/transcribe/decode.js";
import { WhisperModel } from "../src/transcribe/whisper.js";
import { writeEmptyModel } from "../test/support/empty-model.js";
import { longSpeechMp4 } from "../test/support/media.js";
import { CLI } from "../test/transcribe/job-helpers.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "600" },
    model: { type: "string" },
    threads: { type: "string" },
    runs: { type: "string", default: "1" },
  },
});
const seconds = Number(values.seconds);
const threads = Number(
  values.threads ?? Math.min(8, os.availableParallelism()),
);
const runCount = Math.max(1, Number(values.runs));
const TARGET = 5;

/** The model to use, and a line saying what it is. */
async function pickModel(
  dir: string,
): Promise<{ path: string; about: string }> {
  const modelsDir = path.join(os.homedir(), ".cache", "durascribe", "models");
  try {
    const found = await resolveModel(values.model ?? "tiny.en", modelsDir);
    return { path: found.path, about: `${found.name} (${found.path})` };
  } catch (err) {
    if (values.model !== undefined) throw err;
    const empty = path.join(dir, "ggml-empty.bin");
    await writeEmptyModel(empty);
    return {
      path: empty,
      about:
        "a model WITHOUT TENSORS (tiny.en is not in the cache; pull it for real figures): it decodes nothing, so only the timing means anything",
    };
  }
}

/** Runs the job as a child process; its wall time and its own timings. */
async function runJobProcess(
  media: string,
  model: string,
  out: string,
): Promise<{ wall: number; timings: Record<string, number> }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, "job"], {
    env: {
      ...process.env,
      VIDEO_URL: media,
      STORAGE_ACCOUNT_URL: `file:${out}`,
      DURASCRIBE_MODEL: model,
      DURASCRIBE_THREADS: String(threads),
      DURASCRIBE_LOG_LEVEL: "info",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) =>
    child.once("close", resolve),
  );
  const wall = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`the job failed (${code}):\n${stderr}`);

  const line = stderr.split("\n").find((l) => l.includes("job succeeded"));
  const timings: Record<string, number> = {};
  for (const [, key, value] of (line ?? "").matchAll(
    /(\w+)Seconds=([\d.]+)/g,
  )) {
    timings[key!] = Number(value);
  }
  return { wall, timings };
}

/** whisper.cpp alone on the same audio: load, then one transcription. */
async function runWhisperAlone(media: string, model: string) {
  const audio = await decodeAudio(media);
  const whisper = await WhisperModel.load(model);
  try {
    const started = performance.now();
    const result = await whisper.transcribe(audio.pcm, {
      threads,
      language: "auto",
    });
    return {
      wall: (performance.now() - started) / 1000,
      whisper: result.whisperMs / 1000,
      segments: result.segments.length,
    };
  } finally {
    whisper.close();
  }
}

function pct(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `12.34 s`, or `median 12.34 s (11.90-13.02)` over several runs. */
function figure(xs: number[]): string {
  if (xs.length === 1) return `${xs[0]!.toFixed(2)} s`;
  const lo = Math.min(...xs).toFixed(2);
  const hi = Math.max(...xs).toFixed(2);
  return `median ${median(xs).toFixed(2)} s (${lo}-${hi})`;
}

interface Run {
  job: { wall: number; timings: Record<string, number> };
  alone: { whisper: number; segments: number };
}

/** Job and whisper.cpp alone, alternated so both see the same machine. */
async function measure(media: string, model: string, dir: string) {
  const runs: Run[] = [];
  for (let i = 0; i < runCount; i++) {
    const out = path.join(dir, `out-${i}`);
    const job = await runJobProcess(media, model, out);
    const alone = await runWhisperAlone(media, model);
    runs.push({ job, alone });
    console.log(
      `run ${i + 1}: job ${job.wall.toFixed(2)} s, whisper.cpp in it ${(job.timings.whisper ?? NaN).toFixed(2)} s, alone ${alone.whisper.toFixed(2)} s`,
    );
  }
  return runs;
}

function report(runs: Run[]): void {
  const wall = runs.map((r) => r.job.wall);
  const inJob = runs.map((r) => r.job.timings.whisper ?? NaN);
  const alone = runs.map((r) => r.alone.whisper);
  // Overhead within one run: whatever load the machine has, both see it.
  const overhead = runs.map((r) => r.job.wall - (r.job.timings.whisper ?? NaN));
  const steps = ["fetch", "decode", "modelWait", "upload"].map(
    (k) => `${k} ${figure(runs.map((r) => r.job.timings[k] ?? NaN))}`,
  );
  const startup = runs.map((r) => r.job.wall - (r.job.timings.total ?? NaN));
  const share = (100 * median(overhead)) / median(inJob);

  console.log("");
  console.log(
    `job wall time:          ${figure(wall)} (process start to exit)`,
  );
  console.log(
    `real-time factor:       ${(median(wall) / seconds).toFixed(4)} (${(seconds / median(wall)).toFixed(1)}x real time)`,
  );
  console.log(`whisper.cpp in the job: ${figure(inJob)}`);
  console.log(
    `whisper.cpp alone:      ${figure(alone)} (same audio, model and threads, in this process; ${runs[0]!.alone.segments} segments)`,
  );
  console.log(`job steps:              ${steps.join(", ")}`);
  console.log(`process start and exit: ${figure(startup)}`);
  console.log("");
  console.log(
    `overhead of the job over whisper.cpp: ${figure(overhead)} = ${share.toFixed(1)}% (target <= ${TARGET}%): ${share <= TARGET ? "met" : "MISSED"}`,
  );
  console.log(
    `job wall vs whisper.cpp alone:        ${pct(median(wall) - median(alone), median(alone))} (runs apart in time: moves with the machine's other load)`,
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-bench-"));
  try {
    const model = await pickModel(dir);
    console.log(`model: ${model.about}`);
    console.log(
      `threads: ${threads}, cores: ${os.availableParallelism()}, load average ${os.loadavg()[0]!.toFixed(2)}`,
    );

    const t0 = performance.now();
    const media = await longSpeechMp4(dir, seconds);
    console.log(
      `media: ${seconds} s of espeak-ng speech, H.264/AAC MP4, made in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    report(await measure(media, model.path, dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
