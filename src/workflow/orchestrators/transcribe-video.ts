/**
 * Orchestrator `transcribeVideo`: one source, one result. Starts a job
 * execution, polls it on durable timers (2 s, growing to 30 s), retries a
 * transient failure after a growing wait, stops at once on a permanent
 * one, and gives up on an execution that outlives the per-video timeout.
 * Never throws for a failed video: the failure is its result.
 *
 * Orchestrator code: deterministic, no I/O, no clock but the context's.
 */
import type { OrchestrationContext, Task } from "@microsoft/durabletask-js";

import {
  callOrError,
  classify,
  failedResult,
  jobEnvironment,
  nextDelay,
  retryDelay,
  succeededResult,
  type Outcome,
} from "./policy.js";
import {
  NAMES,
  type StartResult,
  type StatusInput,
  type StatusResult,
  type VideoInput,
  type VideoProgress,
  type VideoResult,
  type VideoStatus,
} from "../types.js";

/**
 * Polls in a row that may fail, or find the execution unknown to the
 * runner, before the attempt counts as failed (transiently).
 */
const BAD_POLLS_ALLOWED = 5;

type Failure = Extract<Outcome, { kind: "failed" }>;

/** What one run of the orchestrator works with. */
interface Run {
  ctx: OrchestrationContext;
  input: VideoInput;
  p: VideoProgress;
  ask: Omit<StatusInput, "executionName">;
  /** Status polls made by this execution of the orchestrator. */
  polls: number;
  /** The status the start reported, used as the first poll. */
  first?: StatusResult | undefined;
}

/** How watching one job execution ended. */
type Watched =
  | {
      kind: "ended";
      outcome: Exclude<Outcome, { kind: "running" }>;
      last?: StatusResult;
    }
  | { kind: "timeout"; last?: StatusResult }
  | { kind: "continued" };

/** The orchestrator, registered as `transcribeVideo`. */
export async function* transcribeVideo(
  ctx: OrchestrationContext,
  input: VideoInput,
): AsyncGenerator<Task<unknown>, VideoResult | undefined, unknown> {
  const { source, options } = input;
  if (source.error !== null || source.mediaUrl === null) {
    ctx.setCustomStatus(status("failed", 0));
    const error = source.error ?? `source ${source.source} has no media`;
    return failedResult(source, error, source.errorCode ?? "E_SOURCE", 0);
  }
  const run: Run = {
    ctx,
    input,
    p: input.progress ?? {
      attempt: 1,
      delay: options.pollSeconds,
      phase: "queued",
    },
    ask: {
      output: {
        storageAccountUrl: options.job.storageAccountUrl,
        storageContainer: options.job.storageContainer,
        base: source.base,
      },
    },
    polls: 0,
  };

  for (const p = run.p; ; p.attempt += 1) {
    if (p.executionName === undefined) {
      const failure = yield* startAttempt(run);
      if (failure !== undefined) {
        if (failure.permanent || p.attempt > options.retries) {
          return finish(
            run,
            failedResult(source, failure.error, failure.errorCode, p.attempt),
          );
        }
        yield ctx.createTimer(retryDelay(p.attempt, options));
        continue;
      }
    }

    const w = yield* watch(run, p.executionName!);
    if (w.kind === "continued") return undefined;
    const manifest = w.last?.manifestLocation ?? null;
    if (w.kind === "timeout") {
      const hours = +(options.timeoutSeconds / 3600).toFixed(2);
      const error = `no result after ${hours} h: job execution ${p.executionName} was stopped`;
      return finish(
        run,
        failedResult(source, error, "E_TIMEOUT", p.attempt, manifest),
      );
    }
    if (w.outcome.kind === "succeeded") {
      return finish(run, succeededResult(source, w.last!, p.attempt));
    }
    const f: Failure = w.outcome;
    if (f.permanent || p.attempt > options.retries) {
      return finish(
        run,
        failedResult(source, f.error, f.errorCode, p.attempt, manifest),
      );
    }
    if (f.errorCode === "E_JOB_STATUS" || f.errorCode === "E_JOB_LOST") {
      // It may still be running where we cannot see it: stop it first.
      yield* callOrError(ctx, NAMES.stopJobExecution, stopInput(run));
    }
    yield ctx.createTimer(retryDelay(p.attempt, options));
    p.executionName = undefined;
    p.phase = "queued";
  }
}

/** Starts the attempt's job execution; a failure if it could not start. */
function* startAttempt(
  run: Run,
): Generator<Task<unknown>, Failure | undefined, unknown> {
  const { ctx, input, p } = run;
  ctx.setCustomStatus(status("starting", p.attempt));
  const started = (yield* callOrError(ctx, NAMES.startJobExecution, {
    key: `${ctx.instanceId}#${p.attempt}`,
    env: jobEnvironment(input.options.job, input.source),
    output: run.ask.output,
  })) as StartResult | Error;
  if (started instanceof Error) {
    return {
      kind: "failed",
      permanent: false,
      error: `job execution could not be started: ${started.message}`,
      errorCode: "E_JOB_START",
    };
  }
  if ("error" in started) return { kind: "failed", ...started };
  p.executionName = started.executionName;
  p.delay = input.options.pollSeconds;
  p.deadline = undefined;
  run.first = started.status;
  return undefined;
}

/**
 * Polls the execution on durable timers until it ends, the video times
 * out (the execution is then stopped), or the orchestrator has polled
 * enough to continue as new with its progress.
 */
function* watch(
  run: Run,
  executionName: string,
): Generator<Task<unknown>, Watched, unknown> {
  const { ctx, input, p } = run;
  const options = input.options;
  let last: StatusResult | undefined;
  for (let bad = 0; ;) {
    const s =
      run.first ??
      ((yield* callOrError(ctx, NAMES.getJobExecutionStatus, {
        ...run.ask,
        executionName,
      })) as StatusResult | Error);
    run.first = undefined;
    run.polls += 1;
    // Unreadable or unknown for several polls in a row: the attempt failed.
    const trouble = pollTrouble(s, executionName);
    bad = trouble ? bad + 1 : 0;
    if (trouble && bad >= BAD_POLLS_ALLOWED) {
      return { kind: "ended", outcome: trouble, last };
    }
    if (!(s instanceof Error)) {
      last = s;
      const o = classify(s, executionName);
      if (o.kind !== "running") return { kind: "ended", outcome: o, last };
      // The timeout counts running time: a queue wait is not being stuck.
      if (p.deadline === undefined && s.state === "Running") {
        p.deadline = now(ctx) + options.timeoutSeconds * 1000;
      }
      // A new phase is news: look again soon.
      if (o.phase !== p.phase) p.delay = options.pollSeconds;
      p.phase = o.phase;
      ctx.setCustomStatus(status(o.phase, p.attempt, o.progress));
    }

    const left =
      p.deadline === undefined ? Infinity : (p.deadline - now(ctx)) / 1000;
    if (left <= 0) {
      yield* callOrError(ctx, NAMES.stopJobExecution, stopInput(run));
      return { kind: "timeout", last };
    }
    if (run.polls >= options.maxPollsPerExecution) {
      // Keeps the history short however long the job runs.
      ctx.continueAsNew({ ...input, progress: p }, true);
      return { kind: "continued" };
    }
    yield ctx.createTimer(Math.min(p.delay, left));
    p.delay = nextDelay(p.delay, options);
  }
}

/** The failure a poll would mean if it kept happening, else undefined. */
function pollTrouble(
  s: StatusResult | Error,
  executionName: string,
): Failure | undefined {
  if (s instanceof Error) {
    return {
      kind: "failed",
      permanent: false,
      error: `status of job execution ${executionName} could not be read: ${s.message}`,
      errorCode: "E_JOB_STATUS",
    };
  }
  if (s.state !== "Unknown") return undefined;
  return {
    kind: "failed",
    permanent: false,
    error: `job execution ${executionName} is unknown to the runner`,
    errorCode: "E_JOB_LOST",
  };
}

function now(ctx: OrchestrationContext): number {
  return ctx.currentUtcDateTime.getTime();
}

function stopInput(run: Run): StatusInput {
  return { ...run.ask, executionName: run.p.executionName! };
}

function finish(run: Run, result: VideoResult): VideoResult {
  const phase = result.status === "succeeded" ? "done" : "failed";
  run.ctx.setCustomStatus(
    status(phase, run.p.attempt, phase === "done" ? 1 : undefined),
  );
  return result;
}

function status(
  phase: VideoStatus["phase"],
  attempt: number,
  progress?: number,
): VideoStatus {
  return progress === undefined
    ? { phase, attempt }
    : { phase, attempt, progress };
}
