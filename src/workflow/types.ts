/**
 * The shapes that travel through the transcription workflow: orchestration
 * inputs and outputs, activity inputs and results, custom statuses. All
 * plain JSON. The names are the contract with the CLI and the dashboard.
 *
 * Glossary: a *batch* is one `transcribeBatch` instance; a *video* is one
 * `transcribeVideo` instance, one per source; an *attempt* is one job
 * execution of a video.
 */
import type { ExecutionState, JobManifest } from "../runners/runner.js";
import type { ResolvedSource, SourceEntry } from "../sources/types.js";

/** Orchestration and activity names (registered under these names). */
export const NAMES = {
  transcribeBatch: "transcribeBatch",
  transcribeVideo: "transcribeVideo",
  expandSources: "expandSources",
  resolveSources: "resolveSources",
  startJobExecution: "startJobExecution",
  getJobExecutionStatus: "getJobExecutionStatus",
  stopJobExecution: "stopJobExecution",
} as const;

/** What each job execution is told, as the job's environment. */
export interface JobOptions {
  /** A catalogue name such as `tiny.en`, or a path to a `.bin`. */
  model: string;
  /** A language code, or `auto`. */
  language: string;
  formats: string[];
  threads?: number | undefined;
  translate?: boolean | undefined;
  wordTimestamps?: boolean | undefined;
  vad?: boolean | undefined;
  maxBytes?: number | undefined;
  modelsDir?: string | undefined;
  /** `file:<absolute folder>` or a Blob account URL. */
  storageAccountUrl: string;
  /** Container, or sub-folder of a file: store. */
  storageContainer: string;
}

/** How a batch runs; every field has a default in {@link batchDefaults}. */
export interface BatchOptions {
  job: JobOptions;
  /** Videos in flight at once, across child batches too. */
  concurrency: number;
  /** Sources per batch; more are split into child batches. */
  maxBatchSize: number;
  /** Retries of a transient failure (so attempts = retries + 1). */
  retries: number;
  /** Wait before the first retry; doubles each retry. */
  retryBackoffSeconds: number;
  /** First interval between status polls. */
  pollSeconds: number;
  /** The interval grows by half each poll up to this. */
  maxPollSeconds: number;
  /**
   * A job execution still running this long after it started running
   * (time queued on the runner does not count) has failed.
   */
  timeoutSeconds: number;
  /** Polls per execution of transcribeVideo before it continues as new. */
  maxPollsPerExecution: number;
}

/** Defaults of everything in {@link BatchOptions} but `job`. */
export const batchDefaults: Omit<BatchOptions, "job"> = {
  concurrency: 16,
  maxBatchSize: 1000,
  retries: 3,
  retryBackoffSeconds: 15,
  pollSeconds: 2,
  maxPollSeconds: 30,
  timeoutSeconds: 6 * 3600,
  maxPollsPerExecution: 100,
};

/**
 * Input of `transcribeBatch`: `sources` as the user gave them (the top
 * batch), or `entries` already expanded (a child batch).
 */
export interface BatchInput {
  sources?: string[];
  /** Folder relative paths and `@lists` in `sources` are resolved in. */
  cwd?: string;
  entries?: SourceEntry[];
  /**
   * Set on the child batches of a batch run in parts: the child returns
   * its counts only, its results staying in its videos' outputs.
   */
  part?: boolean;
  options: BatchOptions;
}

/** Custom status of `transcribeBatch`, set after each change. */
export interface BatchStatus {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
}

/**
 * Output of `transcribeBatch`: the counts, and one result per source in
 * input order. A batch small enough to run in one piece holds its results
 * itself. A batch run in child batches holds `parts` instead: each result
 * is then the output of its `transcribeVideo` instance, so that no output
 * or history grows with the size of the batch. `readBatchResults` (src/workflow/results.ts)
 * reads either form.
 */
export interface BatchResult {
  total: number;
  succeeded: number;
  failed: number;
  /** Every result, for a batch that ran in one piece. */
  results?: VideoResult[];
  /** The child batches, in source order, for a batch that ran in parts. */
  parts?: BatchPart[];
}

/**
 * A child batch of a batch run in parts. Its videos are the instances
 * `<instanceId>/v/<i>`, i from 0 to total - 1, each with a VideoResult
 * output. A child batch that failed as a whole carries its (failed)
 * results itself.
 */
export interface BatchPart {
  instanceId: string;
  total: number;
  succeeded: number;
  failed: number;
  results?: VideoResult[];
}

/** A batch's output with every result in it, as readBatchResults gives it. */
export interface FullBatchResult {
  total: number;
  succeeded: number;
  failed: number;
  results: VideoResult[];
}

/** Where a video stands, as its custom status says. */
export type VideoPhase =
  "queued" | "starting" | "downloading" | "transcribing" | "done" | "failed";

/** Custom status of `transcribeVideo`. */
export interface VideoStatus {
  phase: VideoPhase;
  attempt: number;
  /** 0..1 within the phase, from the job's manifest. */
  progress?: number;
}

/** Output of `transcribeVideo`, and an entry of {@link BatchResult}. */
export interface VideoResult {
  /** The source's stable id. */
  id: string;
  source: string;
  title: string;
  mediaUrl: string | null;
  status: "succeeded" | "failed";
  transcripts: Partial<Record<"txt" | "srt" | "vtt" | "json", string>>;
  /** Location of the manifest, once a job execution ran. */
  manifest: string | null;
  language: string | null;
  audioSeconds: number | null;
  error: string | null;
  errorCode: string | null;
  /** Job executions started for this source. */
  attempts: number;
}

/** Progress carried over when `transcribeVideo` continues as new. */
export interface VideoProgress {
  attempt: number;
  /**
   * Epoch ms after which the attempt has timed out, counted from when its
   * execution was first seen running.
   */
  deadline?: number | undefined;
  executionName?: string | undefined;
  /** Current poll interval, seconds. */
  delay: number;
  phase: VideoPhase;
}

/** Input of `transcribeVideo`. */
export interface VideoInput {
  source: ResolvedSource;
  options: BatchOptions;
  progress?: VideoProgress;
}

/** Input of `expandSources`. */
export interface ExpandInput {
  sources: string[];
  cwd: string;
}

/** Input of `startJobExecution`. */
export interface StartInput {
  /** Stable per video and attempt: `<instanceId>#<attempt>`. */
  key: string;
  env: Record<string, string>;
  output: OutputLocation;
}

/**
 * Result of `startJobExecution`: the execution's name and its first
 * status (saving one poll), or why it could not start.
 */
export type StartResult =
  | { executionName: string; status: StatusResult }
  | { error: string; errorCode: string; permanent: boolean };

/** Where a job execution's outputs go. */
export interface OutputLocation {
  storageAccountUrl: string;
  storageContainer: string;
  base: string;
}

/** Input of `getJobExecutionStatus` and `stopJobExecution`. */
export interface StatusInput {
  executionName: string;
  output: OutputLocation;
}

/** The few manifest fields the workflow needs, to keep history small. */
export type ManifestSummary = Pick<
  JobManifest,
  | "status"
  | "phase"
  | "progress"
  | "formats"
  | "language"
  | "audioSeconds"
  | "error"
  | "exitCode"
  | "startedAt"
>;

/** Result of `getJobExecutionStatus`. */
export interface StatusResult {
  state: ExecutionState;
  exitCode: number | null;
  detail: string | null;
  manifest: ManifestSummary | null;
  /** Where the manifest is (or will be). */
  manifestLocation: string | null;
}
