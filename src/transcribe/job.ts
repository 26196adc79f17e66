/**
 * The transcription job: fetch the media, decode its audio, run whisper,
 * render every format, upload them, and keep the manifest up to date the
 * whole way. `durascribe job` (a job execution) and `durascribe
 * transcribe` (a person at a terminal) both run this one pipeline.
 *
 * No half transcript is ever visible: all formats are rendered in memory
 * first, each is uploaded atomically, and the manifest that lists them is
 * written last. Temporary files live in one folder that is removed on
 * every way out, abort included.
 */
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { DurascribeError, exitCodeFor } from "../errors.js";
import type { Logger } from "../logger.js";
import { silentLogger } from "../logger.js";
import type { TranscriptStore } from "../storage/store.js";
import { decodeAudio, type DecodedAudio } from "./decode.js";
import type {
  EngineLease,
  EngineProvider,
  RecogniseResult,
  ResolvedEngine,
} from "./engine-types.js";
import { fetchMedia, type FetchOptions } from "./fetch.js";
import { contentTypeFor, renderFormat, type Transcript } from "./formats.js";
import type { TranscribeSettings } from "./job-config.js";
import { jobError, manifestError } from "./job-errors.js";
import { makeTempFolder, sweepTempFolders } from "./temp-folders.js";
import {
  ManifestWriter,
  startingManifest,
  type JobManifest,
  type JobPhase,
} from "./manifest.js";

/** What one job execution transcribes and where the outputs go. */
export interface JobSpec {
  /** The media: an http(s) URL, a local path or a `file:` URL. */
  source: string;
  /** Outputs are `<base>.<format>` and `<base>.manifest.json`. */
  base: string;
  store: TranscriptStore;
  settings: TranscribeSettings;
}

/** How the job is run; everything but `engines` has a default. */
export interface JobOptions {
  /** Loads the whisper model; see engine.ts for the real one. */
  engines: EngineProvider;
  logger?: Logger;
  /** Stops the job; the manifest says failed and the reason is thrown. */
  signal?: AbortSignal;
  /** Every change of phase or progress, for progress bars. */
  onProgress?: (phase: JobPhase, progress: number) => void;
  /** Told the temp folder once made, so a last-resort exit can remove it. */
  onTempFolder?: (folder: string) => void;
  /** Where the temp folder goes. @default os.tmpdir() */
  tempRoot?: string;
  /** Download tuning (timeouts, retries); size cap and signal are set here. */
  fetch?: Omit<FetchOptions, "maxBytes" | "signal" | "onProgress">;
  /** Least time between manifest writes while running. @default 2000 */
  manifestIntervalMs?: number;
}

/** Wall seconds of each step of a job execution that succeeded. */
export interface JobTimings {
  fetch: number;
  decode: number;
  /** Waiting for the model once decoding was done (it loads meanwhile). */
  modelWait: number;
  transcribe: number;
  /** whisper.cpp's own time inside `transcribe`. */
  whisper: number;
  upload: number;
  total: number;
}

/** What a job execution that succeeded leaves. */
export interface JobResult {
  manifest: JobManifest;
  /** Where the manifest was written. */
  manifestLocation: string;
  transcript: Transcript;
  timings: JobTimings;
}

/**
 * Runs one job execution. On failure the manifest records the error and
 * the exit code, and the error is thrown as a {@link DurascribeError}
 * (any other error means a bug: exit code 1).
 */
export async function runJob(
  spec: JobSpec,
  opts: JobOptions,
): Promise<JobResult> {
  const logger = (opts.logger ?? silentLogger).child({ base: spec.base });
  const manifest = new ManifestWriter(
    spec.store,
    startingManifest(spec.source, spec.base, modelLabel(spec.settings.model)),
    { intervalMs: opts.manifestIntervalMs, logger },
  );
  try {
    await manifest.start();
  } catch (err) {
    throw jobError(err);
  }
  logger.info("job started", { source: spec.source });

  const run = new JobRun(spec, opts, manifest, logger);
  try {
    const result = await run.execute();
    logger.info("job succeeded", timingFields(result.timings));
    return result;
  } catch (raw) {
    const err = jobError(raw, opts.signal);
    await run.fail(err);
    throw err;
  } finally {
    await run.cleanUp();
  }
}

/** A readable model name for a catalogue name or a path to a `.bin`. */
function modelLabel(model: string): string {
  if (!/[\\/]/.test(model) && !model.endsWith(".bin")) return model;
  return path
    .basename(model)
    .replace(/^ggml-/, "")
    .replace(/\.bin$/, "");
}

/** One execution's state as it goes through the steps. */
class JobRun {
  private readonly started = performance.now();
  private tempFolder: string | undefined;
  private lease: Promise<EngineLease> | undefined;
  private fetchSeconds: number | null = null;
  private fetched = 0;

  constructor(
    private readonly spec: JobSpec,
    private readonly opts: JobOptions,
    private readonly manifest: ManifestWriter,
    private readonly logger: Logger,
  ) {}

  async execute(): Promise<JobResult> {
    const { settings } = this.spec;
    // The model loads while the media is fetched and decoded; a missing
    // model still fails before any download, from resolve().
    const engine = await this.opts.engines.resolve(settings);
    this.manifest.update({ model: engine.name });
    this.lease = engine.load();
    // Its failure is reported where it is awaited, not as unhandled.
    void this.lease.catch(() => undefined);

    const media = await this.step("fetching", (p) => this.fetchStep(p));
    this.fetchSeconds = seconds(this.fetched);
    this.manifest.update({ fetchSeconds: this.fetchSeconds });

    const t0 = performance.now();
    const audio = await this.step("decoding", (progress) =>
      decodeAudio(media, {
        signal: this.opts.signal,
        onProgress: progress,
        label: this.spec.source,
      }),
    );
    this.manifest.update({ audioSeconds: audio.seconds });
    const t1 = performance.now();
    const model = await this.lease;
    const t2 = performance.now();

    const { transcript, whisperMs } = await this.step(
      "transcribing",
      (progress) => this.transcribeStep(model, engine, audio, progress),
    );
    const t3 = performance.now();
    const formats = await this.step("uploading", (progress) =>
      this.uploadStep(transcript, progress),
    );
    const t4 = performance.now();

    const final = await this.succeed(transcript, formats, t0);
    return {
      ...final,
      transcript,
      timings: {
        fetch: this.fetchSeconds,
        decode: seconds(t1 - t0),
        modelWait: seconds(t2 - t1),
        transcribe: seconds(t3 - t2),
        whisper: whisperMs / 1000,
        upload: seconds(t4 - t3),
        total: seconds(t4 - this.started),
      },
    };
  }

  /** Runs one step with its phase and progress in the manifest. */
  private async step<T>(
    phase: JobPhase,
    body: (progress: (fraction: number) => void) => Promise<T>,
  ): Promise<T> {
    this.opts.signal?.throwIfAborted();
    const progress = (fraction: number): void => {
      const clamped = Math.max(0, Math.min(1, fraction));
      this.manifest.update({ phase, progress: clamped });
      this.opts.onProgress?.(phase, clamped);
    };
    progress(0);
    const start = performance.now();
    const value = await body(progress);
    progress(1);
    this.logger.debug("phase done", {
      phase,
      seconds: seconds(performance.now() - start),
    });
    return value;
  }

  /**
   * Fetches the media into a temp folder of this job's own, first
   * reclaiming the folders of jobs killed before they could clean up.
   */
  private async fetchStep(
    progress: (fraction: number) => void,
  ): Promise<string> {
    const start = performance.now();
    const { settings, source } = this.spec;
    const root = this.opts.tempRoot ?? os.tmpdir();
    for (const folder of await sweepTempFolders(root)) {
      this.logger.info("removed the temp folder of a job that was killed", {
        folder,
      });
    }
    this.tempFolder = await makeTempFolder(root);
    this.opts.onTempFolder?.(this.tempFolder);
    const media = await fetchMedia(
      source,
      path.join(this.tempFolder, `media${mediaExtension(source)}`),
      {
        ...this.opts.fetch,
        maxBytes: settings.maxBytes,
        signal: this.opts.signal,
        onProgress: (bytes, total) => {
          if (total) progress(bytes / total);
        },
      },
    );
    this.fetched = performance.now() - start;
    return media;
  }

  private async transcribeStep(
    lease: EngineLease,
    engine: ResolvedEngine,
    audio: DecodedAudio,
    progress: (fraction: number) => void,
  ): Promise<{ transcript: Transcript; whisperMs: number }> {
    const { settings } = this.spec;
    const start = performance.now();
    // TODO: no watchdog bounds whisper.cpp's time; a run that loops and
    // ignores the abort is ended only by the CLI's exit after a signal.
    const { vadModelPath } = engine;
    // whisper.cpp refuses an empty buffer; no audio is no speech.
    const result: RecogniseResult =
      audio.pcm.length === 0
        ? { segments: [], language: undefined, whisperMs: 0 }
        : await lease.engine.transcribe(audio.pcm, {
            language: settings.language,
            threads: settings.threads,
            translate: settings.translate,
            wordTimestamps: settings.wordTimestamps,
            vad: vadModelPath ? { modelPath: vadModelPath } : undefined,
            onProgress: progress,
            signal: this.opts.signal,
          });
    progress(1);
    const language =
      result.language ??
      (settings.language === "auto" ? "und" : settings.language);
    this.manifest.update({ language });
    const transcript: Transcript = {
      segments: result.segments,
      language,
      model: engine.name,
      audioSeconds: audio.seconds,
      processingSeconds: seconds(performance.now() - start),
    };
    return { transcript, whisperMs: result.whisperMs };
  }

  /** Renders every format first, then uploads each atomically. */
  private async uploadStep(
    transcript: Transcript,
    progress: (fraction: number) => void,
  ): Promise<JobManifest["formats"]> {
    const { formats } = this.spec.settings;
    const rendered = formats.map(
      (f) => [f, renderFormat(f, transcript)] as const,
    );
    const locations: JobManifest["formats"] = {};
    for (const [i, [format, body]] of rendered.entries()) {
      this.opts.signal?.throwIfAborted();
      locations[format] = await this.spec.store.put(
        `${this.spec.base}.${format}`,
        body,
        contentTypeFor(format),
      );
      progress((i + 1) / rendered.length);
    }
    return locations;
  }

  private async succeed(
    transcript: Transcript,
    formats: JobManifest["formats"],
    processingStart: number,
  ): Promise<{ manifest: JobManifest; manifestLocation: string }> {
    const manifestLocation = await this.manifest.finish({
      status: "succeeded",
      phase: "done",
      progress: 1,
      formats,
      language: transcript.language,
      audioSeconds: transcript.audioSeconds,
      processingSeconds: seconds(performance.now() - processingStart),
      finishedAt: new Date().toISOString(),
      exitCode: 0,
    });
    return {
      manifest: structuredClone(this.manifest.current),
      manifestLocation,
    };
  }

  /** Records `err` as the job's end in the manifest, if the store lets it. */
  async fail(err: Error): Promise<void> {
    // The message itself is for the caller to show, once.
    this.logger.info("job failed", {
      code: err instanceof DurascribeError ? err.code : "E_UNEXPECTED",
      exitCode: exitCodeFor(err),
    });
    try {
      await this.manifest.finish({
        status: "failed",
        phase: "done",
        fetchSeconds: this.fetchSeconds,
        finishedAt: new Date().toISOString(),
        error: manifestError(err),
        exitCode: exitCodeFor(err),
      });
    } catch (writeErr) {
      this.logger.warn("cannot write the failed manifest", {
        error: writeErr instanceof Error ? writeErr.message : String(writeErr),
      });
    }
  }

  /** Removes the temp folder and frees the model, whatever happened. */
  async cleanUp(): Promise<void> {
    if (this.tempFolder !== undefined) {
      await rm(this.tempFolder, { recursive: true, force: true });
    }
    const lease = await this.lease?.catch(() => undefined);
    lease?.release();
  }
}

/** The URL's or path's extension, which ffmpeg's probing also weighs. */
function mediaExtension(source: string): string {
  let name = source;
  try {
    name = new URL(source).pathname;
  } catch {
    // A plain path.
  }
  const ext = path.extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(ext) ? ext : "";
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function timingFields(t: JobTimings): Record<string, number> {
  return {
    fetchSeconds: t.fetch,
    decodeSeconds: t.decode,
    modelWaitSeconds: t.modelWait,
    transcribeSeconds: t.transcribe,
    whisperSeconds: t.whisper,
    uploadSeconds: t.upload,
    totalSeconds: t.total,
  };
}
