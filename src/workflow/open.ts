/**
 * Turning a validated {@link WorkerConfig} into the running pieces: the
 * connection to the task hub, the job runner and the activities'
 * dependencies. Shared by `durascribe worker` and `durascribe run`.
 */
import { readFile } from "node:fs/promises";

import type { V1Job } from "@kubernetes/client-node";

import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";
import { LocalRunner } from "../runners/local.js";
import type { JobRunner } from "../runners/runner.js";
import { BuildApi } from "../sources/build.js";
import type { ActivityDeps } from "./activities.js";
export { openConnection } from "./connection.js";
import { createManifestReader } from "./manifest.js";
import type { RunnerConfig, WorkerConfig } from "./worker-config.js";

/**
 * The runner a config names.
 *
 * @param baseEnv What local job executions inherit (PATH, HOME, ...).
 */
export async function openRunner(
  config: RunnerConfig,
  baseEnv: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<JobRunner> {
  switch (config.kind) {
    case "local":
      return LocalRunner.open({
        dir: config.dir,
        maxConcurrent: config.maxJobs,
        command: config.command,
        baseEnv,
        logger,
      });
    case "aca": {
      // The cloud SDKs load only for the runner that needs them.
      const { AcaRunner } = await import("../runners/aca.js");
      const { DefaultAzureCredential } = await import("@azure/identity");
      return new AcaRunner({
        subscriptionId: config.subscriptionId,
        resourceGroup: config.resourceGroup,
        jobName: config.jobName,
        container: config.container,
        credential: new DefaultAzureCredential(),
        logger,
      });
    }
    case "k8s": {
      const { K8sRunner } = await import("../runners/k8s.js");
      const { KubeConfig } = await import("@kubernetes/client-node");
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      const context = kubeConfig.getContextObject(
        kubeConfig.getCurrentContext(),
      );
      return new K8sRunner({
        kubeConfig,
        namespace: config.namespace ?? context?.namespace ?? "default",
        template: await readTemplate(config.templateFile),
        container: config.container,
        deleteSucceeded: config.deleteSucceeded,
        logger,
      });
    }
  }
}

/** A Job template from a YAML or JSON file. */
export async function readTemplate(file: string): Promise<V1Job> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(
      `cannot read the Kubernetes Job template ${file}: ${(err as Error).message}`,
    );
  }
  const { loadYaml } = await import("@kubernetes/client-node");
  try {
    return loadYaml<V1Job>(text);
  } catch (err) {
    throw new ConfigError(
      `the Kubernetes Job template ${file} is not YAML or JSON: ${(err as Error).message}`,
    );
  }
}

/** What the activities get, for a config and a runner. */
export function activityDeps(
  config: WorkerConfig,
  runner: JobRunner,
  logger: Logger,
): ActivityDeps {
  return {
    runner,
    build: new BuildApi({ baseUrl: config.buildApiUrl }),
    readManifest: createManifestReader({
      connectionString: config.storageConnectionString,
    }),
    logger,
  };
}
