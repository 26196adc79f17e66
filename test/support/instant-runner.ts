/**
 * A job runner for tests only: every execution has finished by the time
 * it is asked about, with the manifest a real job would have written. It
 * lets a test drive thousands of videos through the real workflow, hub
 * and SDK without running thousands of processes.
 */
import { executionName } from "../../src/runners/names.js";
import {
  jobBaseName,
  type ExecutionStatus,
  type JobManifest,
  type JobRunner,
  type JobSpec,
} from "../../src/runners/runner.js";

/** Options of {@link InstantRunner}. */
export interface InstantOptions {
  /** Exit code for a spec; 0 (success) unless it says otherwise. */
  exitCode?: (spec: JobSpec) => number;
}

/** Completes every execution at once. */
export class InstantRunner implements JobRunner {
  readonly kind = "instant";
  /** Every spec started, by execution name. */
  readonly started = new Map<string, JobSpec>();

  constructor(private readonly options: InstantOptions = {}) {}

  async start(spec: JobSpec): Promise<string> {
    const name = executionName(spec.key, 100);
    this.started.set(name, spec);
    return name;
  }

  async status(name: string): Promise<ExecutionStatus> {
    const spec = this.started.get(name);
    if (!spec) return { state: "Unknown" };
    const exitCode = this.options.exitCode?.(spec) ?? 0;
    return {
      state: exitCode === 0 ? "Succeeded" : "Failed",
      exitCode,
      manifest: manifestFor(spec, exitCode),
    };
  }
}

function manifestFor(spec: JobSpec, exitCode: number): JobManifest {
  const env = spec.env;
  const base = jobBaseName(env);
  const folder = `${(env.STORAGE_ACCOUNT_URL ?? "").replace(/^file:/, "")}/${env.STORAGE_CONTAINER_NAME}`;
  const formats: Record<string, string> = {};
  for (const f of (env.DURASCRIBE_FORMATS ?? "txt").split(",")) {
    formats[f] = `${folder}/${base}.${f}`;
  }
  const now = new Date().toISOString();
  return {
    version: 1,
    status: exitCode === 0 ? "succeeded" : "failed",
    phase: "done",
    progress: 1,
    source: env.VIDEO_URL ?? "",
    base,
    formats: exitCode === 0 ? formats : {},
    language: "en",
    model: env.DURASCRIBE_MODEL ?? "tiny.en",
    audioSeconds: 600,
    processingSeconds: 30,
    fetchSeconds: 2,
    startedAt: now,
    updatedAt: now,
    finishedAt: now,
    error:
      exitCode === 0
        ? null
        : {
            code: "E_TEST",
            message: `exit ${exitCode}`,
            permanent: exitCode === 3,
          },
    exitCode,
  };
}
