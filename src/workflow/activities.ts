/**
 * The workflow's activities: where its I/O happens. Each gets what it
 * needs (the job runner, the Build API client, the manifest reader)
 * injected when the worker is created, never from the environment.
 */
import type { ActivityContext } from "@microsoft/durabletask-js";

import { DurascribeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { TERMINAL_STATES, type JobRunner } from "../runners/runner.js";
import type { BuildApi } from "../sources/build.js";
import { expandSources } from "../sources/expand.js";
import { resolveSources } from "../sources/resolve.js";
import type { ResolvedSource, SourceEntry } from "../sources/types.js";
import {
  manifestLocation,
  readManifest,
  type ManifestReader,
} from "./manifest.js";
import {
  NAMES,
  type ExpandInput,
  type ManifestSummary,
  type StartInput,
  type StartResult,
  type StatusInput,
  type StatusResult,
} from "./types.js";
import type { ExecutionWatch } from "./watch.js";

/** What the activities are given. */
export interface ActivityDeps {
  runner: JobRunner;
  build: BuildApi;
  /** Reads a job's manifest from storage. @default readManifest */
  readManifest?: ManifestReader;
  /** Stops executions whose orchestration was terminated or purged. */
  watch?: ExecutionWatch;
  logger: Logger;
}

/** An activity as the SDK registers it. */
export type Activity = (ctx: ActivityContext, input: never) => Promise<unknown>;

/** The activities by their registered names. */
export function createActivities(deps: ActivityDeps): Record<string, Activity> {
  const read = deps.readManifest ?? readManifest;
  const log = deps.logger.child({ component: "activities" });

  const status = async (
    ctx: ActivityContext,
    input: StatusInput,
  ): Promise<StatusResult> => {
    const s = await deps.runner.status(input.executionName);
    if (TERMINAL_STATES.has(s.state)) deps.watch?.forget(input.executionName);
    else deps.watch?.track(input.executionName, ctx.orchestrationId);
    const found = s.manifest ?? (await readOrNull(read, input, log));
    const manifest = found && !stale(found, s.startedAt) ? found : null;
    return {
      state: s.state,
      exitCode: s.exitCode ?? null,
      detail: s.detail ?? null,
      manifest: manifest ? summary(manifest) : null,
      manifestLocation: manifestLocation(input.output),
    };
  };

  return {
    [NAMES.expandSources]: async (_ctx, input: ExpandInput) =>
      expandSources(input.sources, input.cwd),

    [NAMES.resolveSources]: async (
      _ctx,
      entries: SourceEntry[],
    ): Promise<ResolvedSource[]> =>
      resolveSources(entries, { build: deps.build }),

    [NAMES.startJobExecution]: async (
      ctx,
      input: StartInput,
    ): Promise<StartResult> => {
      try {
        const executionName = await deps.runner.start(input);
        log.info("job execution started", { key: input.key, executionName });
        const ask = { executionName, output: input.output };
        return { executionName, status: await status(ctx, ask) };
      } catch (err) {
        // A known, permanent refusal (bad template) is a result; anything
        // else throws, and the orchestration retries the attempt.
        if (err instanceof DurascribeError && err.permanent) {
          return { error: err.message, errorCode: err.code, permanent: true };
        }
        throw err;
      }
    },

    [NAMES.getJobExecutionStatus]: async (ctx, input: StatusInput) =>
      status(ctx, input),

    [NAMES.stopJobExecution]: async (_ctx, input: StatusInput) => {
      try {
        await deps.runner.stop?.(input.executionName);
        deps.watch?.forget(input.executionName);
      } catch (err) {
        // Best effort: the video has failed either way.
        log.warn("could not stop job execution", {
          executionName: input.executionName,
          error: String(err),
        });
      }
      return null;
    },
  };
}

async function readOrNull(
  read: ManifestReader,
  input: StatusInput,
  log: Logger,
) {
  try {
    return (await read(input.output)) ?? null;
  } catch (err) {
    // An unreadable manifest only costs detail; the runner's state rules.
    log.warn("cannot read manifest", {
      base: input.output.base,
      error: String(err),
    });
    return null;
  }
}

/**
 * A manifest from an earlier run of the same outputs: it started well
 * before this execution did (a minute allows for clocks that differ).
 */
function stale(
  m: ManifestSummary,
  executionStart: string | undefined,
): boolean {
  if (executionStart === undefined) return false;
  return Date.parse(m.startedAt) < Date.parse(executionStart) - 60_000;
}

function summary(m: ManifestSummary): ManifestSummary {
  return {
    status: m.status,
    phase: m.phase,
    progress: m.progress,
    formats: m.formats,
    language: m.language,
    audioSeconds: m.audioSeconds,
    error: m.error,
    exitCode: m.exitCode,
    startedAt: m.startedAt,
  };
}
