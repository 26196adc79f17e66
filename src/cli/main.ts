/**
 * The `durascribe` command. The only module that prints to the console.
 */
import { parseArgs } from "node:util";
import { ConfigError, hubConfig } from "../config.js";
import { Logger } from "../logger.js";
import { HubServer } from "../hub/server.js";
import { openStore } from "../hub/store/open.js";

const USAGE = `usage: durascribe <command> [options]

commands:
  hub     serve the Durable Task hub (TaskHubSidecarService over gRPC)
          --host 127.0.0.1  --port 8080
          --store sqlite:.durascribe/hub.db | postgres://user@host/db
          --token <secret>  --log-level info
`;

/** Runs the CLI with arguments (without node and script). */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "hub":
        await hubCommand(rest);
        return;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return;
      default:
        throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
    }
  } catch (err) {
    const code = err instanceof ConfigError ? err.exitCode : 1;
    console.error(
      `durascribe: ${err instanceof Error ? err.message : String(err)}`,
    );
    process.exitCode = code;
  }
}

async function hubCommand(args: string[]): Promise<void> {
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

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

function parse(args: string[], options: Options) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}
