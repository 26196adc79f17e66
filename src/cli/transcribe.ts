/**
 * `durascribe transcribe <media...>`: the job's pipeline for a person at a
 * terminal. Files are done one after another with the model loaded once,
 * each with a progress bar on stderr; the outputs go to one folder.
 */
import path from "node:path";

import { ConfigError, exitCodeFor } from "../errors.js";
import { Logger } from "../logger.js";
import { FileTranscriptStore } from "../storage/file.js";
import { WhisperEngines } from "../transcribe/engine.js";
import { runJob, type JobResult } from "../transcribe/job.js";
import {
  flagPick,
  SETTINGS_FLAGS,
  transcribeSettings,
  transcriptBase,
  type TranscribeSettings,
} from "../transcribe/job-config.js";
import type { JobPhase } from "../transcribe/manifest.js";
import { setWhisperLogger } from "../transcribe/whisper.js";
import { parse } from "./args.js";
import { ProgressBoard, type ProgressBar } from "./progress.js";
import { Stopper } from "./stopper.js";

/** Usage lines of the transcribe command. */
export const TRANSCRIBE_USAGE = `  transcribe <media...>   transcribe files or URLs here, with a progress bar each
          --out transcripts  --model tiny.en (name or .bin path)  --language auto
          --formats txt,srt,vtt,json  --threads <n>  --translate  --word-timestamps
          --vad  --models-dir <folder>  --max-bytes 10GiB  --log-level warn
`;

const OPTIONS = {
  out: { type: "string" },
  ...SETTINGS_FLAGS,
} as const;

/** Runs `durascribe transcribe` with the arguments after the command name. */
export async function transcribeCommand(args: string[]): Promise<void> {
  const parsed = parse(args, OPTIONS, true);
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (positionals.length === 0) {
    throw new ConfigError(
      "transcribe needs at least one media file or URL, for example: durascribe transcribe talk.mp4",
    );
  }
  // Log records would tear the bars apart: only warnings unless asked.
  const env = { DURASCRIBE_LOG_LEVEL: "warn", ...process.env };
  const settings = transcribeSettings(flagPick(values, env), env);
  const out = path.resolve(
    typeof values.out === "string" ? values.out : "transcripts",
  );
  const logger = new Logger(settings.logLevel, { component: "transcribe" });
  if (logger.enabled("debug")) setWhisperLogger(logger);

  const engines = new WhisperEngines({ keepLoaded: true, logger });
  const board = new ProgressBoard(process.stderr);
  const stopper = new Stopper(logger, (signal) => `stopped by ${signal}`);

  const batch: Batch = {
    settings,
    store: new FileTranscriptStore(out),
    engines,
    board,
    logger,
    stopper,
    report: [],
  };
  try {
    process.exitCode = await transcribeAll(positionals, batch);
  } finally {
    board.close();
    stopper.dispose();
    await engines.close();
  }
  // Printed after the bars are done, so no line lands inside them.
  for (const line of batch.report) {
    if (line.startsWith("durascribe: ")) console.error(line);
    else console.log(line);
  }
}

interface Batch {
  settings: TranscribeSettings;
  store: FileTranscriptStore;
  engines: WhisperEngines;
  board: ProgressBoard;
  logger: Logger;
  stopper: Stopper;
  /** Lines to print once the bars are closed: outputs and errors. */
  report: string[];
}

/**
 * Transcribes each source in turn and prints where its outputs went.
 * A configuration error (such as a missing model) stops them all.
 *
 * @returns The exit code: 0, or that of the first file that failed.
 */
async function transcribeAll(sources: string[], batch: Batch): Promise<number> {
  const bases = uniqueBases(sources);
  const bars = sources.map((source) => batch.board.add(source));
  let exitCode = 0;
  let stop = false;
  for (const [i, source] of sources.entries()) {
    const bar = bars[i]!;
    if (stop || batch.stopper.signal.aborted) {
      bar.fail("not started");
      continue;
    }
    try {
      const result = await transcribeOne(source, bases[i]!, bar, batch);
      bar.done(summary(result));
      batch.report.push(outputsLine(source, result));
    } catch (err) {
      const message =
        (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
      bar.fail(message);
      batch.report.push(`durascribe: ${source}: ${message}`);
      exitCode ||= exitCodeFor(err);
      // The next file would fail the same way (a missing model, say).
      stop = err instanceof ConfigError;
    }
  }
  return exitCode;
}

async function transcribeOne(
  source: string,
  base: string,
  bar: ProgressBar,
  batch: Batch,
): Promise<JobResult> {
  return runJob(
    { source, base, store: batch.store, settings: batch.settings },
    {
      engines: batch.engines,
      logger: batch.logger,
      signal: batch.stopper.signal,
      onTempFolder: (folder) => (batch.stopper.tempFolder = folder),
      onProgress: (phase, progress) => bar.update(PHASE_WORDS[phase], progress),
    },
  );
}

const PHASE_WORDS: Readonly<Record<JobPhase, string>> = {
  fetching: "downloading",
  decoding: "decoding",
  transcribing: "transcribing",
  uploading: "writing",
  done: "done",
};

/** Base names for the sources, with `-2`, `-3` added where two collide. */
function uniqueBases(sources: string[]): string[] {
  const seen = new Map<string, number>();
  return sources.map((source) => {
    const base = transcriptBase(undefined, source);
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}-${count}`;
  });
}

function summary(result: JobResult): string {
  const { audioSeconds } = result.transcript;
  return `${audioSeconds.toFixed(1)} s of audio in ${result.timings.total.toFixed(1)} s`;
}

function outputsLine(source: string, result: JobResult): string {
  const files = Object.values(result.manifest.formats);
  return `${source}: ${files.join(" ")}`;
}
