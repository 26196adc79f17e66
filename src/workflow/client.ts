/**
 * A client of a task hub (the official SDK's), and the SDK's log lines
 * through durascribe's logger. Kept apart from the worker so commands that
 * only ask the hub load nothing else.
 */
import {
  TaskHubGrpcClient,
  type Logger as SdkLogger,
} from "@microsoft/durabletask-js";

import type { Logger } from "../logger.js";
import type { HubConnection } from "./connection.js";

/** Channel options: work items and results of large batches pass 4 MiB. */
export const CHANNEL = {
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
};

/** A client of the task hub `connection` names. */
export function createClient(
  connection: HubConnection,
  logger: Logger,
): TaskHubGrpcClient {
  return new TaskHubGrpcClient({
    hostAddress: connection.hostAddress,
    useTLS: connection.useTLS,
    metadataGenerator: connection.metadataGenerator,
    logger: sdkLogger(logger.child({ component: "sdk" })),
    options: CHANNEL,
  });
}

/**
 * The SDK's log lines through durascribe's logger. Its info lines report
 * each work item, so they go out as debug.
 */
export function sdkLogger(log: Logger): SdkLogger {
  const text = (message: string, args: unknown[]) =>
    args.length === 0 ? message : `${message} ${args.map(String).join(" ")}`;
  return {
    error: (m, ...a) => log.error(text(m, a)),
    warn: (m, ...a) => log.warn(text(m, a)),
    info: (m, ...a) => log.debug(text(m, a)),
    debug: (m, ...a) => log.debug(text(m, a)),
  };
}
