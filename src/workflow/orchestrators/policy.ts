/**
 * The decisions of the workflow as pure functions: what a job execution
 * is told, what its status means (running, done, or failed for good or
 * for now), how long to wait. Orchestrator code; it imports nothing that
 * does I/O.
 */
import type { OrchestrationContext, Task } from "@microsoft/durabletask-js";

import type { ResolvedSource } from "../../sources/types.js";
import type {
  BatchOptions,
  JobOptions,
  StatusResult,
  VideoPhase,
  VideoResult,
} from "../types.js";

/** The job environment for one source (the contract in TEAM.md). */
export function jobEnvironment(
  job: JobOptions,
  source: ResolvedSource,
): Record<string, string> {
  const env: Record<string, string> = {
    VIDEO_URL: source.mediaUrl ?? "",
    STORAGE_ACCOUNT_URL: job.storageAccountUrl,
    STORAGE_CONTAINER_NAME: job.storageContainer,
    STORAGE_BLOB_NAME: source.base,
    DURASCRIBE_MODEL: job.model,
    DURASCRIBE_LANGUAGE: job.language,
    DURASCRIBE_FORMATS: job.formats.join(","),
  };
  const optional: [string, string | number | boolean | undefined][] = [
    ["DURASCRIBE_THREADS", job.threads],
    ["DURASCRIBE_TRANSLATE", job.translate],
    ["DURASCRIBE_WORD_TIMESTAMPS", job.wordTimestamps],
    ["DURASCRIBE_VAD", job.vad],
    ["DURASCRIBE_MAX_BYTES", job.maxBytes],
    ["DURASCRIBE_MODELS_DIR", job.modelsDir],
  ];
  for (const [name, value] of optional) {
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}

/** What a status poll means for the video. */
export type Outcome =
  | { kind: "running"; phase: VideoPhase; progress?: number }
  | { kind: "succeeded" }
  | { kind: "failed"; permanent: boolean; error: string; errorCode: string };

/** Exit codes after which a retry cannot help: bad config, bad media. */
const PERMANENT_EXITS = new Set([2, 3]);

/**
 * Reads a status poll. The runner's state decides whether the execution
 * has ended; the exit code (the runner's, else the manifest's) decides
 * whether a failure is permanent.
 */
export function classify(s: StatusResult, executionName: string): Outcome {
  const m = s.manifest;
  switch (s.state) {
    case "Succeeded":
      return { kind: "succeeded" };
    case "Running":
      if (!m) return { kind: "running", phase: "starting" };
      // A finished manifest while the process exits: still finishing.
      return m.status === "running"
        ? { kind: "running", ...manifestPhase(m.phase), progress: m.progress }
        : { kind: "running", phase: "transcribing", progress: 1 };
    case "Processing":
      return { kind: "running", phase: "queued" };
    case "Unknown":
      return { kind: "running", phase: "starting" };
    case "Stopped":
      return {
        kind: "failed",
        permanent: true,
        error: `job execution ${executionName} was stopped on the runner`,
        errorCode: "E_JOB_STOPPED",
      };
    case "Failed":
    case "Degraded":
      return failure(s, executionName);
  }
}

function failure(s: StatusResult, executionName: string): Outcome {
  const m = s.manifest;
  // A process that vanished after writing a succeeded manifest did finish.
  if (s.exitCode === null && m?.status === "succeeded") {
    return { kind: "succeeded" };
  }
  const finished = m && m.status === "failed" ? m : null;
  const exitCode = s.exitCode ?? finished?.exitCode ?? null;
  const permanent =
    exitCode !== null
      ? PERMANENT_EXITS.has(exitCode)
      : (finished?.error?.permanent ?? false);
  if (
    finished?.error &&
    (exitCode === null || exitCode === finished.exitCode)
  ) {
    return {
      kind: "failed",
      permanent,
      error: finished.error.message,
      errorCode: finished.error.code,
    };
  }
  const how =
    exitCode !== null
      ? `exited with code ${exitCode}`
      : s.detail
        ? `failed: ${s.detail}`
        : `ended in state ${s.state}`;
  return {
    kind: "failed",
    permanent,
    error: `job execution ${executionName} ${how}`,
    errorCode:
      exitCode !== null
        ? `E_JOB_EXIT_${exitCode}`
        : s.state === "Degraded"
          ? "E_JOB_DEGRADED"
          : "E_JOB_VANISHED",
  };
}

function manifestPhase(phase: string): { phase: VideoPhase } {
  return { phase: phase === "fetching" ? "downloading" : "transcribing" };
}

/** The next poll interval, seconds: half as long again, up to the cap. */
export function nextDelay(delay: number, options: BatchOptions): number {
  return Math.min(options.maxPollSeconds, Math.round(delay * 1500) / 1000);
}

/** Wait before retry number `retry` (1-based), seconds. */
export function retryDelay(retry: number, options: BatchOptions): number {
  return options.retryBackoffSeconds * 2 ** (retry - 1);
}

/** A succeeded result from the final status poll. */
export function succeededResult(
  source: ResolvedSource,
  s: StatusResult,
  attempts: number,
): VideoResult {
  const m = s.manifest;
  return {
    ...identity(source),
    status: "succeeded",
    transcripts: { ...(m?.formats ?? {}) },
    manifest: s.manifestLocation,
    language: m?.language ?? null,
    audioSeconds: m?.audioSeconds ?? null,
    error: null,
    errorCode: null,
    attempts,
  };
}

/** A failed result. */
export function failedResult(
  source: ResolvedSource,
  error: string,
  errorCode: string,
  attempts: number,
  manifest: string | null = null,
): VideoResult {
  return {
    ...identity(source),
    status: "failed",
    transcripts: {},
    manifest,
    language: null,
    audioSeconds: null,
    error,
    errorCode,
    attempts,
  };
}

function identity(source: ResolvedSource) {
  return {
    id: source.id,
    source: source.source,
    title: source.title,
    mediaUrl: source.mediaUrl,
  };
}

/**
 * Calls an activity and hands back its result, or the Error it failed
 * with: an activity that throws (a runner that cannot be reached, a dead
 * dependency) becomes a value the orchestrator turns into results, never
 * the orchestration's own failure.
 */
export function* callOrError(
  ctx: OrchestrationContext,
  name: string,
  input: unknown,
): Generator<Task<unknown>, unknown, unknown> {
  try {
    return yield ctx.callActivity(name, input);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
