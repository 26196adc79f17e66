/**
 * `durascribe hub`: serves the Durable Task hub until SIGINT or SIGTERM.
 */
import { hubConfig } from "../config.js";
import { HubServer } from "../hub/server.js";
import { openStore } from "../hub/store/open.js";
import { Logger } from "../logger.js";
import { parse } from "./args.js";

/** Usage lines of the hub command. */
export const HUB_USAGE = `  hub     serve the Durable Task hub (TaskHubSidecarService over gRPC)
          --host 127.0.0.1  --port 8080
          --store sqlite:.durascribe/hub.db | postgres://user@host/db
          --token <secret>  --log-level info
`;

/** Runs `durascribe hub` with the arguments after the command name. */
export async function hubCommand(args: string[]): Promise<void> {
  const { values } = parse(args, {
    host: { type: "string" },
    port: { type: "string" },
    store: { type: "string" },
    token: { type: "string" },
    "log-level": { type: "string" },
  });
  const config = hubConfig({ flags: values, env: process.env });
  const logger = new Logger(config.logLevel);
  const server = new HubServer({
    store: await openStore(config.store),
    host: config.host,
    port: config.port,
    token: config.token,
    logger,
  });
  // Handlers go in before the ready line: whoever reads it may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info("stopping", { signal });
      server.stop().then(resolve, (err: unknown) => {
        console.error(`durascribe: stopping failed: ${String(err)}`);
        resolve();
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await server.start();
  console.log(`hub listening on ${config.host}:${server.port}`);
  await stopped;
}
