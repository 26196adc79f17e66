/**
 * The Azure Container Apps Jobs runner: each job execution is an
 * execution of one manual-trigger Container Apps Job. The job's own
 * template gives the image and resources; each start overrides the
 * container's environment with the spec's, through Azure Resource Manager
 * (`POST .../jobs/{job}/start`, a long-running operation), and the
 * execution's status is read back (`GET .../jobs/{job}/executions/{name}`).
 *
 * Container Apps reports no exit code: a failed execution's manifest
 * tells a permanent failure from a transient one.
 */
import type { Agent } from "node:https";

import {
  ContainerAppsAPIClient,
  type EnvironmentVar,
  type JobExecutionContainer,
  type JobExecutionTemplate,
} from "@azure/arm-appcontainers";
import type { TokenCredential } from "@azure/identity";

import { ConfigError, DurascribeError, TransientError } from "../errors.js";
import { silentLogger, type Logger } from "../logger.js";
import type {
  ExecutionState,
  ExecutionStatus,
  JobRunner,
  JobSpec,
} from "./runner.js";

/** The variable that marks an execution with its spec's key. */
export const KEY_VARIABLE = "DURASCRIBE_EXECUTION_KEY";

/** Options of {@link AcaRunner}. */
export interface AcaRunnerOptions {
  subscriptionId: string;
  resourceGroup: string;
  /** The Container Apps Job (manual trigger) that runs `durascribe job`. */
  jobName: string;
  credential: TokenCredential;
  /** The container that gets the environment. @default the first */
  container?: string | undefined;
  /** Resource Manager URL. @default https://management.azure.com */
  endpoint?: string | undefined;
  /** HTTPS agent, e.g. one that trusts a private CA. */
  agent?: Agent | undefined;
  /** Polling interval of the start operation. @default 2000 */
  pollIntervalMs?: number | undefined;
  logger?: Logger | undefined;
}

const STATES: ReadonlySet<string> = new Set<ExecutionState>([
  "Running",
  "Processing",
  "Succeeded",
  "Failed",
  "Stopped",
  "Degraded",
  "Unknown",
]);

/** Container Apps Jobs behind {@link JobRunner}. */
export class AcaRunner implements JobRunner {
  readonly kind = "aca";
  private readonly client: ContainerAppsAPIClient;
  private template: Promise<JobExecutionContainer[]> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: AcaRunnerOptions) {
    this.client = new ContainerAppsAPIClient(
      options.credential,
      options.subscriptionId,
      {
        endpoint: options.endpoint,
        agent: options.agent,
        // Our own retries (the workflow's) decide; the SDK's 3 are kept
        // short so a dead endpoint fails the activity quickly.
        retryOptions: { maxRetries: 2, retryDelayInMs: 500 },
      },
    );
    this.log = (options.logger ?? silentLogger).child({ component: "aca" });
  }

  /**
   * Starts an execution with the spec's environment laid over the job
   * template's. A spec whose execution already exists (an activity
   * delivered twice) is not started again.
   */
  async start(spec: JobSpec): Promise<string> {
    const { resourceGroup, jobName } = this.options;
    const existing = await this.findByKey(spec.key);
    if (existing) return existing;

    const template = await this.executionTemplate(spec);
    const name = await this.call("start an execution of", async () => {
      const poller = await this.client.jobs.beginStart(resourceGroup, jobName, {
        template,
        updateIntervalInMs: this.options.pollIntervalMs ?? 2000,
      });
      return (await poller.pollUntilDone()).name;
    });
    if (!name) {
      throw new TransientError(
        `Container Apps Job ${jobName} accepted a start but named no execution`,
        "E_RUNNER_ACA",
      );
    }
    this.log.info("execution started", { execution: name });
    return name;
  }

  /** The execution's state; Container Apps gives no exit code. */
  async status(executionName: string): Promise<ExecutionStatus> {
    const { resourceGroup, jobName } = this.options;
    try {
      const e = await this.client.jobExecution(
        resourceGroup,
        jobName,
        executionName,
      );
      const state = STATES.has(e.status ?? "")
        ? (e.status as ExecutionState)
        : "Unknown";
      return e.startTime
        ? { state, startedAt: e.startTime.toISOString() }
        : { state };
    } catch (err) {
      if (statusCode(err) === 404) return { state: "Unknown" };
      throw this.failure("read execution of", err);
    }
  }

  /** Asks Container Apps to stop the execution; does not wait for it. */
  async stop(executionName: string): Promise<void> {
    const { resourceGroup, jobName } = this.options;
    await this.call("stop execution of", async () => {
      try {
        await this.client.jobs.beginStopExecution(
          resourceGroup,
          jobName,
          executionName,
        );
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
    });
  }

  /** The execution started for `key` earlier, among the latest ones. */
  private async findByKey(key: string): Promise<string | undefined> {
    const { resourceGroup, jobName } = this.options;
    return this.call("list executions of", async () => {
      const pages = this.client.jobsExecutions
        .list(resourceGroup, jobName)
        .byPage();
      // Only the first page: a repeated start comes soon after the first.
      const first = await pages.next();
      const executions = first.done ? [] : first.value;
      const found = executions.find((e) =>
        (e.template?.containers ?? []).some((c) =>
          (c.env ?? []).some((v) => v.name === KEY_VARIABLE && v.value === key),
        ),
      );
      return found?.name;
    });
  }

  /** The job template's containers, the target's env overridden. */
  private async executionTemplate(
    spec: JobSpec,
  ): Promise<JobExecutionTemplate> {
    const containers = await this.jobContainers();
    const target = this.options.container ?? containers[0]?.name;
    if (!containers.some((c) => c.name === target)) {
      throw new ConfigError(
        `Container Apps Job ${this.options.jobName} has no container named "${target}"; its containers are ${containers.map((c) => c.name).join(", ") || "none"}`,
        "E_RUNNER_CONFIG",
      );
    }
    const vars = { ...spec.env, [KEY_VARIABLE]: spec.key };
    return {
      containers: containers.map((c) =>
        c.name === target ? { ...c, env: mergeEnv(c.env ?? [], vars) } : c,
      ),
    };
  }

  private jobContainers(): Promise<JobExecutionContainer[]> {
    this.template ??= this.call("read", async () => {
      const job = await this.client.jobs.get(
        this.options.resourceGroup,
        this.options.jobName,
      );
      return (job.template?.containers ?? []).map((c) => ({
        image: c.image,
        name: c.name,
        command: c.command,
        args: c.args,
        env: c.env,
        resources: c.resources,
      }));
    }).catch((err: unknown) => {
      this.template = undefined;
      throw err;
    });
    return this.template;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.failure(what, err);
    }
  }

  /** An ARM error as a DurascribeError: config for 4xx, else transient. */
  private failure(what: string, err: unknown): DurascribeError {
    if (err instanceof DurascribeError) return err;
    const { subscriptionId, resourceGroup, jobName } = this.options;
    const code = statusCode(err);
    const where = `Container Apps Job ${jobName} (resource group ${resourceGroup}, subscription ${subscriptionId})`;
    const text = `cannot ${what} ${where}: ${err instanceof Error ? err.message : String(err)}`;
    if (
      code !== undefined &&
      code >= 400 &&
      code < 500 &&
      code !== 429 &&
      code !== 408
    ) {
      return new ConfigError(text, "E_RUNNER_CONFIG", { cause: err });
    }
    return new TransientError(text, "E_RUNNER_ACA", { cause: err });
  }
}

/** `base` with `vars` set: replaced where named, appended otherwise. */
function mergeEnv(
  base: EnvironmentVar[],
  vars: Record<string, string>,
): EnvironmentVar[] {
  const kept = base.filter((v) => v.name === undefined || !(v.name in vars));
  return [
    ...kept,
    ...Object.entries(vars).map(([name, value]) => ({ name, value })),
  ];
}

function statusCode(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}
