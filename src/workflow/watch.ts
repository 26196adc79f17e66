/**
 * Stopping job executions whose orchestration is gone. A terminated (or
 * purged) `transcribeVideo` runs no more code, so it cannot stop the job
 * execution it started; the worker that holds the runner does it instead.
 *
 * The activities tell the watch about each execution they start or find
 * running, with the orchestration it belongs to, and forget it once it has
 * ended. Every `intervalMs` the watch asks the task hub about the
 * orchestrations of the executions it knows, and stops those whose
 * orchestration has ended (terminated, failed, completed) or no longer
 * exists. A suspended orchestration keeps its execution: it may resume.
 */
import {
  OrchestrationStatus,
  type TaskHubGrpcClient,
} from "@microsoft/durabletask-js";

import type { Logger } from "../logger.js";
import type { JobRunner } from "../runners/runner.js";

/** Finds an orchestration's status; undefined when there is none. */
export type StatusLookup = (
  instanceId: string,
) => Promise<OrchestrationStatus | undefined>;

/** Options of an {@link ExecutionWatch}. */
export interface WatchOptions {
  runner: JobRunner;
  lookup: StatusLookup;
  logger: Logger;
  /** How often orchestrations are checked. @default 10_000 */
  intervalMs?: number;
}

/** Statuses under which an orchestration may still need its execution. */
const ALIVE: ReadonlySet<OrchestrationStatus> = new Set([
  OrchestrationStatus.RUNNING,
  OrchestrationStatus.PENDING,
  OrchestrationStatus.SUSPENDED,
  OrchestrationStatus.CONTINUED_AS_NEW,
]);

/** Executions started by this worker, and the orchestrations they serve. */
export class ExecutionWatch {
  private readonly owners = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly options: WatchOptions) {
    this.log = options.logger.child({ component: "watch" });
  }

  /** Execution `name` serves orchestration `instanceId` and has not ended. */
  track(name: string, instanceId: string): void {
    if (this.closed) return;
    this.owners.set(name, instanceId);
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        void this.sweep();
      }, this.options.intervalMs ?? 10_000);
      this.timer.unref();
    }
  }

  /**
   * Watches the executions the runner already holds, started by an
   * earlier process (a worker restarted after its orchestrations were
   * terminated), then sweeps once. A key is `<instanceId>#<attempt>`.
   */
  async adopt(): Promise<void> {
    for (const { name, key } of (await this.options.runner.unfinished?.()) ??
      []) {
      const hash = key.lastIndexOf("#");
      this.track(name, hash > 0 ? key.slice(0, hash) : key);
    }
    if (this.owners.size > 0) await this.sweep();
  }

  /** Execution `name` has ended: nothing to stop any more. */
  forget(name: string): void {
    this.owners.delete(name);
  }

  /** The executions watched now. */
  get size(): number {
    return this.owners.size;
  }

  /**
   * Checks every watched execution's orchestration once and stops the
   * executions of those that ended. One sweep at a time.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /** Stops the timer; running executions are left as they are. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    for (const [name, instanceId] of [...this.owners]) {
      if (this.closed) return;
      let status: OrchestrationStatus | undefined;
      try {
        status = await this.options.lookup(instanceId);
      } catch (err) {
        // The hub is unreachable: ask again at the next sweep.
        this.log.debug("cannot look up orchestration", {
          instanceId,
          error: String(err),
        });
        return;
      }
      if (status !== undefined && ALIVE.has(status)) continue;
      // It may have been forgotten (ended) while we asked.
      if (this.owners.get(name) !== instanceId) continue;
      try {
        await this.options.runner.stop?.(name);
        this.owners.delete(name);
        this.log.info("stopped job execution: its orchestration ended", {
          executionName: name,
          instanceId,
          status:
            status === undefined ? "not found" : OrchestrationStatus[status],
        });
      } catch (err) {
        this.log.warn("could not stop job execution", {
          executionName: name,
          error: String(err),
        });
      }
    }
    if (this.owners.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * A started watch over `runner`'s executions, asking the task hub through
 * `client`: it adopts what the runner already holds.
 */
export async function startWatch(
  runner: JobRunner,
  client: Pick<TaskHubGrpcClient, "getOrchestrationState">,
  logger: Logger,
  intervalMs?: number,
): Promise<ExecutionWatch> {
  const watch = new ExecutionWatch({
    runner,
    logger,
    intervalMs,
    lookup: async (id) =>
      (await client.getOrchestrationState(id, false))?.runtimeStatus,
  });
  await watch.adopt();
  return watch;
}
