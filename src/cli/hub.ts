/**
 * `durascribe hub`: serves the Durable Task hub until SIGINT or SIGTERM.
 */
import { hubConfig } from "../config.js";
import { HubMetrics } from "../hub/http/metrics.js";
import { DashboardServer } from "../hub/http/server.js";
import { blobReader } from "../hub/http/transcript.js";
import { HubServer } from "../hub/server.js";
import { openStore } from "../hub/store/open.js";
import { Logger } from "../logger.js";
import { parse } from "./args.js";

/** Usage lines of the hub command. */
export const HUB_USAGE = `  hub     serve the Durable Task hub (TaskHubSidecarService over gRPC)
          --host 127.0.0.1  --port 8080
          --store sqlite:.durascribe/hub.db | postgres://user@host/db
          --token <secret>  --log-level info
          --dashboard-port 8082 | --no-dashboard
`;

/** Runs `durascribe hub` with the arguments after the command name. */
export async function hubCommand(args: string[]): Promise<void> {
  const { values } = parse(args, {
    host: { type: "string" },
    port: { type: "string" },
    store: { type: "string" },
    token: { type: "string" },
    "log-level": { type: "string" },
    "dashboard-port": { type: "string" },
    "no-dashboard": { type: "boolean" },
  });
  const config = hubConfig({ flags: values, env: process.env });
  const logger = new Logger(config.logLevel);
  const metrics = config.dashboard ? new HubMetrics() : undefined;
  const server = new HubServer({
    store: await openStore(config.store),
    host: config.host,
    port: config.port,
    token: config.token,
    logger,
    observer: metrics,
  });
  const dashboard = metrics
    ? new DashboardServer({
        hub: server,
        port: config.dashboardPort,
        token: config.token,
        metrics,
        readRemote: blobReader({
          connectionString: config.blobConnectionString,
        }),
        logger,
      })
    : undefined;
  // Handlers go in before the ready line: whoever reads it may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info("stopping", { signal });
      const dashboardStopped = dashboard?.stop() ?? Promise.resolve();
      dashboardStopped
        .then(() => server.stop())
        .then(resolve, (err: unknown) => {
          console.error(`durascribe: stopping failed: ${String(err)}`);
          resolve();
        });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await server.start();
  try {
    await dashboard?.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  console.log(`hub listening on ${config.host}:${server.port}`);
  if (dashboard) console.log(`dashboard on ${dashboard.url}`);
  await stopped;
}
