/**
 * The transcription workflow under test: a real hub on loopback, the real
 * worker (SDK, orchestrators, activities) and a client, with the runner a
 * test chooses.
 */
import assert from "node:assert/strict";

import {
  OrchestrationStatus,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";

import { silentLogger } from "../../src/logger.js";
import type { JobRunner } from "../../src/runners/runner.js";
import { BuildApi } from "../../src/sources/build.js";
import type { ActivityDeps } from "../../src/workflow/activities.js";
import { hubConnection } from "../../src/workflow/connection.js";
import {
  batchDefaults,
  type BatchOptions,
  type BatchResult,
  type FullBatchResult,
  type JobOptions,
} from "../../src/workflow/types.js";
import { readBatchResults } from "../../src/workflow/results.js";
import { createClient, createWorker } from "../../src/workflow/worker.js";
import { startHub, type TestHub } from "../hub/helpers.js";

/** Fast polling and retries, so tests take seconds, not minutes. */
export function fastOptions(
  job: Partial<JobOptions> & Pick<JobOptions, "storageAccountUrl">,
  overrides: Partial<Omit<BatchOptions, "job">> = {},
): BatchOptions {
  return {
    ...batchDefaults,
    pollSeconds: 0.05,
    maxPollSeconds: 0.2,
    retryBackoffSeconds: 0.05,
    ...overrides,
    job: {
      model: "tiny.en",
      language: "auto",
      formats: ["txt", "srt", "vtt", "json"],
      storageContainer: "videos",
      ...job,
    },
  };
}

/** A started hub, worker and client; `stop` ends all three. */
export interface Workflow {
  hub: TestHub;
  client: TaskHubGrpcClient;
  worker: TaskHubGrpcWorker;
  /** Starts another worker on the same hub (after `worker.stop()`). */
  restartWorker(runner?: JobRunner): Promise<TaskHubGrpcWorker>;
  stop(): Promise<void>;
}

/** Starts the workflow with `runner` on a fresh hub. */
export async function startWorkflow(
  runner: JobRunner,
  deps: Partial<ActivityDeps> = {},
): Promise<Workflow> {
  const hub = await startHub();
  const connection = hubConnection({
    endpoint: `http://${hub.address}`,
    taskHub: "default",
  });
  const depsFor = (r: JobRunner): ActivityDeps => ({
    runner: r,
    build: new BuildApi({ baseUrl: "http://127.0.0.1:9", attempts: 1 }),
    logger: silentLogger,
    ...deps,
  });
  const start = async (r: JobRunner) => {
    const w = createWorker({
      connection,
      deps: depsFor(r),
      logger: silentLogger,
      shutdownTimeoutMs: 2000,
    });
    await w.start();
    return w;
  };
  const workers = [await start(runner)];
  const client = createClient(connection, silentLogger);
  return {
    hub,
    client,
    worker: workers[0]!,
    restartWorker: async (r = runner) => {
      const w = await start(r);
      workers.push(w);
      return w;
    },
    stop: async () => {
      await client.stop();
      for (const w of workers) await w.stop().catch(() => undefined);
      await hub.stop();
    },
  };
}

/** `n` distinct media URLs under `prefix`. */
export function urls(n: number, prefix: string): string[] {
  return Array.from(
    { length: n },
    (_, i) => `https://media.example/${prefix}/talk-${i}.mp4`,
  );
}

/**
 * Runs a batch of `sources` to completion. Returns every result, read the
 * way `durascribe run` reads them, and the output as the batch returned it.
 */
export async function runBatch(
  wf: Workflow,
  id: string,
  sources: string[],
  overrides: Parameters<typeof fastOptions>[1],
  timeoutSeconds = 120,
): Promise<FullBatchResult & { output: BatchResult }> {
  const options = fastOptions(
    { storageAccountUrl: "file:/data/transcripts" },
    overrides,
  );
  await wf.client.scheduleNewOrchestration(
    "transcribeBatch",
    { sources, cwd: "/", options },
    id,
  );
  const state = await wf.client.waitForOrchestrationCompletion(
    id,
    true,
    timeoutSeconds,
  );
  assert.equal(state?.runtimeStatus, OrchestrationStatus.COMPLETED);
  const output = JSON.parse(state.serializedOutput!) as BatchResult;
  return { ...(await readBatchResults(wf.client, output)), output };
}
