/**
 * The manifest `<base>.manifest.json`: the contract between a job
 * execution, which writes it beside its transcripts, and whatever watches
 * it (the runners, the workflow, a person), who read how the job went
 * without its logs. src/transcribe/manifest.ts writes it.
 */
import type { Format } from "./transcribe/formats.js";

/** Where a job execution stands. */
export type JobStatus = "running" | "succeeded" | "failed";

/** What a job execution is doing; `done` once it has ended either way. */
export type JobPhase =
  "fetching" | "decoding" | "transcribing" | "uploading" | "done";

/** The error a failed job execution ended with. */
export interface ManifestError {
  /** Stable identifier such as `E_FETCH_STATUS`. */
  code: string;
  /** One line saying what went wrong, naming the input. */
  message: string;
  /** True when retrying the job execution cannot help. */
  permanent: boolean;
}

/** The manifest document, version 1. Times are ISO 8601, durations seconds. */
export interface JobManifest {
  version: 1;
  status: JobStatus;
  phase: JobPhase;
  /** Progress within the phase, 0..1. */
  progress: number;
  /** The media as given (VIDEO_URL). */
  source: string;
  /** Base name of the outputs. */
  base: string;
  /** Location (absolute path or blob URL) of each format uploaded. */
  formats: Partial<Record<Format, string>>;
  /** Language given or detected; null until known. */
  language: string | null;
  /** Model name, such as `tiny.en`. */
  model: string;
  audioSeconds: number | null;
  /** Wall time after fetching: decoding, transcribing and uploading. */
  processingSeconds: number | null;
  fetchSeconds: number | null;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  error: ManifestError | null;
  /** The job execution's exit code, once it has ended. */
  exitCode: number | null;
}

/** The manifest's name for outputs named `base`. */
export function manifestName(base: string): string {
  return `${base}.manifest.json`;
}
