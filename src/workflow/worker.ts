/**
 * The workflow worker: the official SDK's worker with durascribe's
 * orchestrators and activities registered under their contract names.
 */
import { TaskHubGrpcWorker, type TActivity } from "@microsoft/durabletask-js";

import type { Logger } from "../logger.js";
import { createActivities, type ActivityDeps } from "./activities.js";
import { CHANNEL, sdkLogger } from "./client.js";
import type { HubConnection } from "./connection.js";
import { transcribeBatch } from "./orchestrators/transcribe-batch.js";
import { transcribeVideo } from "./orchestrators/transcribe-video.js";
import { NAMES } from "./types.js";

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  connection: HubConnection;
  deps: ActivityDeps;
  logger: Logger;
  /** Time given to in-flight work items when stopping. @default 10_000 */
  shutdownTimeoutMs?: number;
}

/** A worker with the transcription workflow registered; not started. */
export function createWorker(opts: WorkerOptions): TaskHubGrpcWorker {
  const c = opts.connection;
  const worker = new TaskHubGrpcWorker({
    hostAddress: c.hostAddress,
    useTLS: c.useTLS,
    metadataGenerator: c.metadataGenerator,
    logger: sdkLogger(opts.logger.child({ component: "sdk" })),
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 10_000,
    options: CHANNEL,
  });
  worker.addNamedOrchestrator(NAMES.transcribeBatch, transcribeBatch);
  worker.addNamedOrchestrator(NAMES.transcribeVideo, transcribeVideo);
  for (const [name, fn] of Object.entries(createActivities(opts.deps))) {
    worker.addNamedActivity(name, fn as TActivity<unknown, unknown>);
  }
  return worker;
}

export { createClient } from "./client.js";
