/**
 * Settings of `durascribe worker` (and the worker inside `durascribe
 * run`): where the task hub is, which runner starts job executions and
 * its settings. One schema for flags and environment variables, validated
 * once into a frozen object; only the CLI calls it, with process.env.
 */
import os from "node:os";
import path from "node:path";

import { ConfigError } from "../errors.js";
import { parseLogLevel, type LogLevel } from "../logger.js";
import { DEFAULT_BUILD_API_URL } from "../sources/build.js";
import { checkEndpoint, parseConnectionString } from "./connection.js";

/** Where the task hub is. */
export type HubTarget =
  | {
      kind: "endpoint";
      endpoint: string;
      taskHub: string;
      /** Bearer token for a hub started with --token. */
      token: string | undefined;
    }
  | { kind: "dts"; connectionString: string };

/** Which runner starts job executions, with its settings. */
export type RunnerConfig =
  | {
      kind: "local";
      dir: string;
      maxJobs: number;
      /** The job's command line. @default node bin/durascribe.js job */
      command: string[] | undefined;
    }
  | {
      kind: "aca";
      subscriptionId: string;
      resourceGroup: string;
      jobName: string;
      container: string | undefined;
    }
  | {
      kind: "k8s";
      templateFile: string;
      namespace: string | undefined;
      container: string | undefined;
      deleteSucceeded: boolean;
    };

/** Settings of the worker. */
export interface WorkerConfig {
  readonly hub: HubTarget;
  readonly runner: RunnerConfig;
  readonly buildApiUrl: string;
  /** For reading manifests from Blob Storage; unset: the Azure identity. */
  readonly storageConnectionString: string | undefined;
  readonly logLevel: LogLevel;
}

/** Raw inputs: parsed flags win over environment variables. */
export interface WorkerConfigInput {
  flags: Record<string, string | boolean | undefined>;
  env: Record<string, string | undefined>;
}

/** The worker's flags, for `parse()` in the CLI. */
export const WORKER_FLAGS = {
  endpoint: { type: "string" },
  taskhub: { type: "string" },
  token: { type: "string" },
  runner: { type: "string" },
  "max-jobs": { type: "string" },
  "executions-dir": { type: "string" },
  "job-command": { type: "string" },
  "subscription-id": { type: "string" },
  "resource-group": { type: "string" },
  "job-name": { type: "string" },
  container: { type: "string" },
  "k8s-template": { type: "string" },
  "k8s-namespace": { type: "string" },
  "k8s-delete-succeeded": { type: "boolean" },
  "build-api-url": { type: "string" },
  "log-level": { type: "string" },
} as const;

type PickFn = (flag: string, envName: string) => string | undefined;

/** Validates the worker's settings. */
export function workerConfig(input: WorkerConfigInput): WorkerConfig {
  const pick = picker(input);
  const logLevel = parseLogLevel(
    pick("log-level", "DURASCRIBE_LOG_LEVEL"),
    "--log-level",
  );
  const buildApiUrl =
    pick("build-api-url", "BUILD_API_URL") ?? DEFAULT_BUILD_API_URL;
  checkEndpoint(buildApiUrl, "--build-api-url");
  return Object.freeze({
    hub: hubTarget(pick),
    runner: runnerConfig(pick, input),
    buildApiUrl,
    storageConnectionString:
      input.env.AZURE_STORAGE_CONNECTION_STRING || undefined,
    logLevel,
  });
}

function picker({ flags, env }: WorkerConfigInput): PickFn {
  return (flag, envName) => {
    const f = flags[flag];
    if (typeof f === "string") return f;
    const e = env[envName];
    return e === "" ? undefined : e;
  };
}

/** Flags every client command takes to reach the task hub. */
export const CLIENT_FLAGS = {
  endpoint: { type: "string" },
  taskhub: { type: "string" },
  token: { type: "string" },
} as const;

/** The task hub a client command talks to, from its flags and the environment. */
export function clientTarget(input: WorkerConfigInput): HubTarget {
  return hubTarget(picker(input));
}

/** An endpoint and task hub, or a Durable Task Scheduler connection string. */
export function hubTarget(pick: PickFn): HubTarget {
  const endpoint = pick("endpoint", "ENDPOINT");
  const connectionString = pick(
    "connection-string",
    "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
  );
  if (connectionString !== undefined && endpoint === undefined) {
    parseConnectionString(connectionString);
    return { kind: "dts", connectionString };
  }
  const url = endpoint ?? "http://localhost:8080";
  checkEndpoint(url);
  const taskHub = pick("taskhub", "TASKHUB") ?? "default";
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(taskHub)) {
    throw new ConfigError(
      `--taskhub "${taskHub}" is not a task hub name: use up to 64 letters, digits, - and _`,
    );
  }
  const token = pick("token", "DURASCRIBE_TOKEN");
  if (token !== undefined && token.length === 0) {
    throw new ConfigError(
      "--token is empty; give the hub's secret or leave it out",
    );
  }
  return { kind: "endpoint", endpoint: url, taskHub, token };
}

function runnerConfig(pick: PickFn, input: WorkerConfigInput): RunnerConfig {
  const kind = pick("runner", "DURASCRIBE_RUNNER") ?? "local";
  const container = pick("container", "DURASCRIBE_CONTAINER");
  switch (kind) {
    case "local":
      return {
        kind,
        dir: path.resolve(
          pick("executions-dir", "DURASCRIBE_EXECUTIONS_DIR") ??
            ".durascribe/executions",
        ),
        maxJobs: maxJobs(pick),
        command: jobCommand(pick("job-command", "DURASCRIBE_JOB_COMMAND")),
      };
    case "aca":
      return {
        kind,
        subscriptionId: required(pick, "subscription-id", "SUBSCRIPTION_ID"),
        resourceGroup: required(pick, "resource-group", "RESOURCE_GROUP"),
        jobName: required(pick, "job-name", "JOB_NAME"),
        container,
      };
    case "k8s":
      return {
        kind,
        templateFile: path.resolve(
          required(pick, "k8s-template", "DURASCRIBE_K8S_TEMPLATE"),
        ),
        namespace: pick("k8s-namespace", "DURASCRIBE_K8S_NAMESPACE"),
        container,
        deleteSucceeded:
          input.flags["k8s-delete-succeeded"] === true ||
          truthy(input.env.DURASCRIBE_K8S_DELETE_SUCCEEDED),
      };
    default:
      throw new ConfigError(
        `--runner "${kind}" is not a runner; use local, aca or k8s`,
      );
  }
}

/**
 * Jobs at once for the local runner: `--max-jobs`, else the cores divided
 * by the threads each job uses (DURASCRIBE_THREADS, else the job's own
 * default of up to 8), at least 1.
 */
function maxJobs(pick: PickFn): number {
  const given = pick("max-jobs", "DURASCRIBE_MAX_JOBS");
  if (given !== undefined) return positiveInt(given, "--max-jobs");
  const cores = os.availableParallelism();
  const threadsSetting = pick("threads", "DURASCRIBE_THREADS");
  const threads =
    threadsSetting !== undefined
      ? positiveInt(threadsSetting, "DURASCRIBE_THREADS")
      : Math.min(8, cores);
  return Math.max(1, Math.floor(cores / threads));
}

function jobCommand(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  if (text.trim().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (
      !Array.isArray(parsed) ||
      parsed.length === 0 ||
      !parsed.every((p) => typeof p === "string")
    ) {
      throw new ConfigError(
        `--job-command ${text} is not a JSON array of strings`,
      );
    }
    return parsed;
  }
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new ConfigError("--job-command is empty");
  return words;
}

function required(pick: PickFn, flag: string, envName: string): string {
  const v = pick(flag, envName);
  if (v === undefined) {
    throw new ConfigError(
      `the ${flag === "k8s-template" ? "k8s" : "aca"} runner needs --${flag} (or ${envName})`,
    );
  }
  return v;
}

/** A whole number of at least 1. */
export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(
      `${name} "${value}" is not a whole number of at least 1`,
    );
  }
  return n;
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(true|1|yes|on)$/i.test(value);
}
