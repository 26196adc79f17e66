/**
 * `durascribe worker`: runs the transcription workflow's orchestrations
 * and activities against a task hub until SIGINT or SIGTERM, starting job
 * executions on the chosen runner.
 */
import { Logger } from "../logger.js";
import { openConnection, openRunner, activityDeps } from "../workflow/open.js";
import { startWatch } from "../workflow/watch.js";
import { createClient, createWorker } from "../workflow/worker.js";
import { WORKER_FLAGS, workerConfig } from "../workflow/worker-config.js";
import { parse } from "./args.js";

/** Usage lines of the worker command. */
export const WORKER_USAGE = `  worker  run the transcription workflow against a task hub
          --endpoint http://localhost:8080  --taskhub default  --token <secret>
          (or DURABLE_TASK_SCHEDULER_CONNECTION_STRING=Endpoint=...;Authentication=DefaultAzure|ManagedIdentity|None;TaskHub=...)
          --runner local|aca|k8s
            local: --max-jobs N  --executions-dir .durascribe/executions
            aca:   --subscription-id ID --resource-group RG --job-name NAME [--container NAME]
            k8s:   --k8s-template job.yaml [--k8s-namespace NS] [--container NAME] [--k8s-delete-succeeded]
          --build-api-url https://api-v2.build.microsoft.com  --log-level info
`;

/** Runs `durascribe worker` with the arguments after the command name. */
export async function workerCommand(args: string[]): Promise<void> {
  const { values } = parse(args, WORKER_FLAGS);
  const config = workerConfig({ flags: values, env: process.env });
  const logger = new Logger(config.logLevel);
  const connection = openConnection(config.hub);
  const runner = await openRunner(config.runner, process.env, logger);
  const client = createClient(connection, logger);
  const watch = await startWatch(runner, client, logger);
  const worker = createWorker({
    connection,
    deps: { ...activityDeps(config, runner, logger), watch },
    logger,
  });

  // Handlers go in before the ready line: whoever reads it may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info("stopping", { signal });
      worker
        .stop()
        .then(() => watch.close())
        .then(() => client.stop())
        .then(() => runner.close?.())
        .catch((err: unknown) =>
          console.error(`durascribe: stopping failed: ${String(err)}`),
        )
        .finally(resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await worker.start();
  console.log(
    `worker started for ${connection.hostAddress} (task hub ${connection.taskHub}), runner ${runner.kind}`,
  );
  await stopped;
}
