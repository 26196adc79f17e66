/**
 * The one interface every job platform sits behind. A job execution is one
 * run of the transcription job (`durascribe job`), configured by its
 * environment only, whatever runs it: a child process, an Azure Container
 * Apps Job execution or a Kubernetes Job.
 *
 * Glossary: a *spec* is what to run (a stable key and the job environment);
 * the *execution name* is the runner's handle for one run of it.
 */
import type { JobManifest } from "../manifest.js";

/**
 * States of a job execution: Azure Container Apps' set, used by every
 * runner. `Processing` means accepted but not running yet (queued or being
 * provisioned); `Unknown` means the runner has no such execution.
 */
export type ExecutionState =
  | "Running"
  | "Processing"
  | "Succeeded"
  | "Failed"
  | "Stopped"
  | "Degraded"
  | "Unknown";

/** The states after which an execution never changes again. */
export const TERMINAL_STATES: ReadonlySet<ExecutionState> = new Set([
  "Succeeded",
  "Failed",
  "Stopped",
]);

/** What to run. */
export interface JobSpec {
  /**
   * A stable key for this run, such as `batch1/v/3#1` (instance id and
   * attempt). Runners that can derive a deterministic execution name from
   * it do so, which makes a repeated `start` of the same spec start it
   * once: activities are delivered at least once.
   */
  readonly key: string;
  /** The job's environment (VIDEO_URL, STORAGE_*, DURASCRIBE_*). */
  readonly env: Readonly<Record<string, string>>;
}

/** The manifest a job execution writes beside its transcripts. */
export type { JobManifest };

/** What a runner knows about one execution. */
export interface ExecutionStatus {
  state: ExecutionState;
  /** The process exit code, where the platform reports one. */
  exitCode?: number | undefined;
  /** The job's manifest, where the runner read it itself. */
  manifest?: JobManifest | undefined;
  /** Why the platform says it failed (a condition, a vanished process). */
  detail?: string | undefined;
  /** When the execution started running (ISO), where the platform says. */
  startedAt?: string | undefined;
}

/** A job platform. */
export interface JobRunner {
  /** Short name for logs and results: `local`, `aca`, `k8s`. */
  readonly kind: string;

  /**
   * Starts (or queues) one execution of `spec`.
   *
   * @returns The execution name to ask {@link status} about.
   * @throws DurascribeError: permanent for bad configuration (the job
   *   template is missing), transient when the platform is unreachable.
   */
  start(spec: JobSpec): Promise<string>;

  /**
   * The state of an execution. Answers for executions started by an
   * earlier process too (a restarted worker). An unknown name is
   * `Unknown`, not an error.
   */
  status(executionName: string): Promise<ExecutionStatus>;

  /**
   * Stops an execution if the platform can; resolves once the request is
   * made. Stopping a finished or unknown execution is not an error.
   */
  stop?(executionName: string): Promise<void>;

  /**
   * Executions this runner holds that have not ended (queued or running),
   * with their spec keys, including those an earlier process started.
   * Runners that cannot list them cheaply leave this out.
   */
  unfinished?(): Promise<{ name: string; key: string }[]>;

  /** Releases what the runner holds (timers, child process handles). */
  close?(): Promise<void>;
}

/**
 * The base name of a job's outputs from its environment, by the contract:
 * STORAGE_BLOB_NAME without a .txt/.srt/.vtt/.json extension, else the
 * media file's name without its extension.
 */
export function jobBaseName(env: Readonly<Record<string, string>>): string {
  const blob = env.STORAGE_BLOB_NAME;
  if (blob) return blob.replace(/\.(txt|srt|vtt|json)$/i, "");
  const media = (env.VIDEO_URL ?? "").split(/[?#]/)[0] ?? "";
  const last = media.split(/[\\/]/).pop() ?? "";
  let file = last;
  try {
    file = decodeURIComponent(last);
  } catch {
    // A stray % is kept as it is: the name only has to be stable.
  }
  return file.replace(/\.[^.]*$/, "") || "transcript";
}
