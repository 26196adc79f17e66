/**
 * Settings of `durascribe run`: the sources, what each job execution is
 * told, how the batch runs, and where the hub and the worker are. One
 * schema for flags and environment variables, validated once into a
 * frozen object; only the run command calls it, with process.env.
 */
import { createHash } from "node:crypto";
import path from "node:path";

import { parseStore } from "../config.js";
import { ConfigError } from "../errors.js";
import { checkContainerName, parseStorageUrl } from "../storage/open.js";
import {
  flagPick,
  SETTINGS_FLAGS,
  transcribeSettings,
  type Pick,
} from "../transcribe/job-config.js";
import {
  batchDefaults,
  type BatchOptions,
  type JobOptions,
} from "../workflow/types.js";
import {
  WORKER_FLAGS,
  hubTarget,
  positiveInt,
  workerConfig,
  type HubTarget,
  type WorkerConfig,
} from "../workflow/worker-config.js";

/** Where the hub is: embedded in this process, or elsewhere. */
export type RunHub =
  { kind: "embedded"; store: string } | { kind: "remote"; target: HubTarget };

/** Settings of `durascribe run`. */
export interface RunConfig {
  readonly sources: readonly string[];
  readonly cwd: string;
  /** Given with --batch-id, else derived from the sources and options. */
  readonly batchId: string;
  readonly options: BatchOptions;
  readonly hub: RunHub;
  /** Start a worker in this process (`--no-worker`: others run it). */
  readonly worker: boolean;
  readonly workerConfig: WorkerConfig;
  /** Print the batch's output as JSON instead of a table. */
  readonly json: boolean;
  /** Schedule (or find) the batch and return without waiting. */
  readonly detach: boolean;
}

/** The run command's flags, for `parse()`. */
export const RUN_FLAGS = {
  ...WORKER_FLAGS,
  out: { type: "string" },
  storage: { type: "string" },
  "storage-container": { type: "string" },
  ...SETTINGS_FLAGS,
  concurrency: { type: "string" },
  retries: { type: "string" },
  timeout: { type: "string" },
  "batch-id": { type: "string" },
  store: { type: "string" },
  "no-worker": { type: "boolean" },
  json: { type: "boolean" },
  detach: { type: "boolean" },
} as const;

/** Raw inputs of {@link runConfig}. */
export interface RunConfigInput {
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Validates the run command's settings. */
export function runConfig(input: RunConfigInput): RunConfig {
  const { flags, env, cwd } = input;
  if (input.positionals.length === 0) {
    throw new ConfigError(
      "durascribe run needs sources: Build session codes, media URLs, files, folders or @list.txt files",
    );
  }
  const pick = flagPick(flags, env);
  const text = (flag: string, name: string) => pick(flag, name)?.value;
  const options: BatchOptions = {
    ...batchDefaults,
    concurrency: int(
      text("concurrency", "DURASCRIBE_CONCURRENCY"),
      "--concurrency",
      batchDefaults.concurrency,
    ),
    retries: count(
      text("retries", "DURASCRIBE_RETRIES"),
      batchDefaults.retries,
    ),
    timeoutSeconds: duration(
      text("timeout", "DURASCRIBE_TIMEOUT"),
      batchDefaults.timeoutSeconds,
    ),
    job: jobOptions(pick, env, cwd),
  };
  const workers = workerConfig({ flags, env });
  if (
    workers.runner.kind !== "local" &&
    options.job.storageAccountUrl.startsWith("file:")
  ) {
    throw new ConfigError(
      `the ${workers.runner.kind} runner's job executions cannot write to a folder on this machine; give --storage https://<account>.blob.core.windows.net`,
    );
  }
  const endpoint = text("endpoint", "ENDPOINT");
  const dts = env.DURABLE_TASK_SCHEDULER_CONNECTION_STRING;
  const hub: RunHub =
    endpoint !== undefined || (dts !== undefined && dts !== "")
      ? { kind: "remote", target: hubTarget((f, e) => text(f, e)) }
      : {
          kind: "embedded",
          store: storeSpec(text("store", "DURASCRIBE_STORE"), cwd),
        };
  const sources = input.positionals;
  return Object.freeze({
    sources,
    cwd,
    batchId: batchId(
      text("batch-id", "DURASCRIBE_BATCH_ID"),
      sources,
      cwd,
      options,
    ),
    options,
    hub,
    worker: flags["no-worker"] !== true,
    workerConfig: workers,
    json: flags.json === true,
    detach: flags.detach === true,
  });
}

/**
 * What each job execution is told. Threads and the models folder travel
 * only when given: a container has its own cores and cache.
 */
function jobOptions(
  pick: Pick,
  env: RunConfigInput["env"],
  cwd: string,
): JobOptions {
  const s = transcribeSettings(pick, env);
  const given = (flag: string, name: string) => pick(flag, name) !== undefined;
  const out = pick("out", "DURASCRIBE_OUT")?.value;
  const storage = pick("storage", "STORAGE_ACCOUNT_URL")?.value;
  if (out !== undefined && storage !== undefined) {
    throw new ConfigError("give --out <folder> or --storage <url>, not both");
  }
  const account =
    storage !== undefined
      ? storage
      : `file:${path.resolve(cwd, out ?? "transcripts")}`;
  const where = parseStorageUrl(
    account,
    storage !== undefined ? "--storage" : "--out",
  );
  return {
    model: s.model.includes("/") ? path.resolve(cwd, s.model) : s.model,
    language: s.language,
    formats: [...s.formats],
    threads: given("threads", "DURASCRIBE_THREADS") ? s.threads : undefined,
    translate: s.translate || undefined,
    wordTimestamps: s.wordTimestamps || undefined,
    vad: s.vad || undefined,
    maxBytes: given("max-bytes", "DURASCRIBE_MAX_BYTES")
      ? s.maxBytes
      : undefined,
    modelsDir: given("models-dir", "DURASCRIBE_MODELS_DIR")
      ? s.modelsDir
      : undefined,
    storageAccountUrl:
      where.kind === "file" ? `file:${where.folder}` : where.accountUrl,
    storageContainer: checkContainerName(
      pick("storage-container", "STORAGE_CONTAINER_NAME")?.value ?? "videos",
      "--storage-container",
    ),
  };
}

/**
 * The batch id: given, or a hash of everything that defines the batch, so
 * the same command run again finds (and resumes) the same batch.
 */
function batchId(
  given: string | undefined,
  sources: readonly string[],
  cwd: string,
  options: BatchOptions,
): string {
  if (given !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(given)) {
      throw new ConfigError(
        `--batch-id "${given}" is not usable: use up to 100 letters, digits, ".", "_" and "-" ("/" is kept for the batch's children)`,
      );
    }
    return given;
  }
  const hash = createHash("sha256")
    .update(JSON.stringify({ sources, cwd, options }))
    .digest("hex");
  return `batch-${hash.slice(0, 12)}`;
}

function storeSpec(given: string | undefined, cwd: string): string {
  const spec = given ?? `sqlite:${path.join(cwd, ".durascribe", "hub.db")}`;
  parseStore(spec);
  return spec;
}

function int(
  value: string | undefined,
  name: string,
  fallback: number,
): number {
  return value === undefined ? fallback : positiveInt(value, name);
}

function count(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 20) {
    throw new ConfigError(
      `--retries "${value}" is not a whole number from 0 to 20`,
    );
  }
  return n;
}

/** `90`, `90s`, `30m`, `6h`: seconds. */
export function duration(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0) {
    throw new ConfigError(
      `--timeout "${value}" is not a duration such as 90s, 30m or 6h`,
    );
  }
  const unit = { s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"];
  return Number(m[1]) * unit;
}
