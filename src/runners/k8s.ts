/**
 * The Kubernetes runner: each job execution is a batch/v1 Job made from
 * a template (image, resources, service account: the cluster's business),
 * with the spec's environment set on its container. Its status comes from
 * the Job's conditions and, once it has ended, the exit code from its
 * pod's container. A Job that succeeded is deleted when the policy says.
 */
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1EnvVar,
  type V1Job,
} from "@kubernetes/client-node";

import { ConfigError, DurascribeError, TransientError } from "../errors.js";
import { silentLogger, type Logger } from "../logger.js";
import { executionName } from "./names.js";
import type { ExecutionStatus, JobRunner, JobSpec } from "./runner.js";

/** Annotation holding the spec's key on each Job. */
export const KEY_ANNOTATION = "durascribe.io/key";

/** Options of {@link K8sRunner}. */
export interface K8sRunnerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** A batch/v1 Job whose pod template runs `durascribe job`. */
  template: V1Job;
  /** The container that gets the environment. @default the first */
  container?: string | undefined;
  /** Delete a Job (and its pods) once it has succeeded. @default false */
  deleteSucceeded?: boolean | undefined;
  logger?: Logger | undefined;
}

/** Kubernetes Jobs behind {@link JobRunner}. */
export class K8sRunner implements JobRunner {
  readonly kind = "k8s";
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly container: string;
  private readonly log: Logger;

  constructor(private readonly options: K8sRunnerOptions) {
    this.container = checkTemplate(options.template, options.container);
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.log = (options.logger ?? silentLogger).child({ component: "k8s" });
  }

  /** Creates the Job; one that already exists for the key is kept. */
  async start(spec: JobSpec): Promise<string> {
    const name = executionName(spec.key, 63, "durascribe-");
    try {
      await this.batch.createNamespacedJob({
        namespace: this.options.namespace,
        body: this.jobFor(name, spec),
      });
      this.log.info("job created", { execution: name });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) {
        throw this.failure(`create Job ${name}`, err);
      }
    }
    return name;
  }

  /** The Job's state from its conditions; exit code once it has ended. */
  async status(name: string): Promise<ExecutionStatus> {
    let job: V1Job;
    try {
      job = await this.batch.readNamespacedJobStatus({
        name,
        namespace: this.options.namespace,
      });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        return { state: "Unknown" };
      }
      throw this.failure(`read Job ${name}`, err);
    }
    const s = job.status ?? {};
    const startedAt = s.startTime?.toISOString();
    const at = startedAt ? { startedAt } : {};
    const condition = (type: string) =>
      (s.conditions ?? []).find((c) => c.type === type && c.status === "True");
    if (condition("Complete") || (s.succeeded ?? 0) > 0) {
      const exitCode = await this.exitCode(name);
      if (this.options.deleteSucceeded) await this.remove(name);
      return { state: "Succeeded", exitCode: exitCode ?? 0, ...at };
    }
    const failed = condition("Failed");
    if (failed) {
      return {
        state: "Failed",
        exitCode: await this.exitCode(name),
        detail: [failed.reason, failed.message].filter(Boolean).join(": "),
        ...at,
      };
    }
    if (condition("Suspended")) return { state: "Stopped", ...at };
    return { state: (s.active ?? 0) > 0 ? "Running" : "Processing", ...at };
  }

  /** Deletes the Job and its pods, which get SIGTERM. */
  async stop(name: string): Promise<void> {
    await this.remove(name);
  }

  private async remove(name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.options.namespace,
        propagationPolicy: "Background",
      });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return;
      throw this.failure(`delete Job ${name}`, err);
    }
  }

  /** The job container's exit code in the Job's latest pod, if any. */
  private async exitCode(name: string): Promise<number | undefined> {
    const pods = await this.core
      .listNamespacedPod({
        namespace: this.options.namespace,
        labelSelector: `batch.kubernetes.io/job-name=${name}`,
      })
      .catch((err: unknown) => {
        throw this.failure(`list pods of Job ${name}`, err);
      });
    const latest = [...pods.items].sort(
      (a, b) =>
        (b.metadata?.creationTimestamp?.getTime() ?? 0) -
        (a.metadata?.creationTimestamp?.getTime() ?? 0),
    )[0];
    const container = latest?.status?.containerStatuses?.find(
      (c) => c.name === this.container,
    );
    return container?.state?.terminated?.exitCode;
  }

  /** The template with the name, key, environment and retry policy set. */
  private jobFor(name: string, spec: JobSpec): V1Job {
    const job = structuredClone(this.options.template);
    job.apiVersion = "batch/v1";
    job.kind = "Job";
    job.metadata = {
      ...job.metadata,
      name,
      namespace: this.options.namespace,
      annotations: { ...job.metadata?.annotations, [KEY_ANNOTATION]: spec.key },
    };
    delete job.metadata.generateName;
    job.spec!.backoffLimit ??= 0;
    const pod = job.spec!.template.spec!;
    pod.restartPolicy ??= "Never";
    for (const c of pod.containers) {
      if (c.name === this.container) c.env = mergeEnv(c.env ?? [], spec.env);
    }
    return job;
  }

  private failure(what: string, err: unknown): DurascribeError {
    const code = err instanceof ApiException ? err.code : undefined;
    const text = `cannot ${what} in namespace ${this.options.namespace}: ${errorText(err)}`;
    if (code !== undefined && code >= 400 && code < 500 && code !== 429) {
      return new ConfigError(text, "E_RUNNER_CONFIG", { cause: err });
    }
    return new TransientError(text, "E_RUNNER_K8S", { cause: err });
  }
}

/**
 * Checks the template is a Job with a pod template and returns the name
 * of the container that gets the environment.
 */
function checkTemplate(template: V1Job, container: string | undefined): string {
  const containers = template.spec?.template?.spec?.containers ?? [];
  if (template.kind !== undefined && template.kind !== "Job") {
    throw new ConfigError(
      `the Kubernetes template is a ${template.kind}, not a Job (apiVersion batch/v1, kind Job)`,
      "E_RUNNER_CONFIG",
    );
  }
  const name = container ?? containers[0]?.name;
  if (!containers.some((c) => c.name === name)) {
    throw new ConfigError(
      `the Kubernetes Job template has no container named "${name ?? ""}" under spec.template.spec.containers (it has ${containers.map((c) => c.name).join(", ") || "none"})`,
      "E_RUNNER_CONFIG",
    );
  }
  return name!;
}

function mergeEnv(base: V1EnvVar[], vars: Record<string, string>): V1EnvVar[] {
  const kept = base.filter((v) => !(v.name in vars));
  return [
    ...kept,
    ...Object.entries(vars).map(([name, value]) => ({ name, value })),
  ];
}

function errorText(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: string } | string | undefined;
    const message =
      typeof body === "string"
        ? (tryJson(body)?.message ?? body)
        : body?.message;
    return `HTTP ${err.code}${message ? `: ${message}` : ""}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function tryJson(text: string): { message?: string } | undefined {
  try {
    return JSON.parse(text) as { message?: string };
  } catch {
    return undefined;
  }
}
