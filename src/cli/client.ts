/**
 * What the client commands (`status`, `list`, `wait`, `terminate`,
 * `suspend`, `resume`, `purge`) share: reaching the task hub and showing
 * an instance in a line or two.
 */
import {
  OrchestrationStatus,
  type OrchestrationState,
  type TaskHubGrpcClient,
} from "@microsoft/durabletask-js";

import { ConfigError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { createClient } from "../workflow/client.js";
import { openConnection } from "../workflow/connection.js";
import type { BatchStatus, VideoStatus } from "../workflow/types.js";
import { CLIENT_FLAGS, clientTarget } from "../workflow/worker-config.js";
import { parse, type Options } from "./args.js";

/** Usage line of the connection flags. */
export const CONNECTION_USAGE =
  "          --endpoint http://localhost:8080  --taskhub default  --token <secret>\n";

/** Flags as parsed: a string option's text, or true for a switch. */
export type Flags = Record<string, string | boolean | undefined>;

/** Parses `args` with the connection flags and `options` added. */
export function parseClientArgs(
  args: string[],
  options: Options = {},
): { values: Flags; positionals: string[] } {
  const { values, positionals } = parse(
    args,
    { ...CLIENT_FLAGS, ...options },
    true,
  );
  return { values: values, positionals };
}

/** A string flag's value. */
export function text(values: Flags, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** Runs `fn` with a client of the task hub the flags name, then closes it. */
export async function withClient<T>(
  flags: Record<string, string | boolean | undefined>,
  fn: (client: TaskHubGrpcClient) => Promise<T>,
): Promise<T> {
  const connection = openConnection(clientTarget({ flags, env: process.env }));
  const client = createClient(connection, silentLogger);
  try {
    return await fn(client);
  } finally {
    await client.stop();
  }
}

/** The one instance id a command was given. */
export function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1 || !positionals[0]) {
    throw new ConfigError(
      `durascribe ${command} takes one instance id, such as a batch id (given: ${positionals.length})`,
    );
  }
  return positionals[0];
}

const NAMES: Record<number, string> = {
  [OrchestrationStatus.RUNNING]: "Running",
  [OrchestrationStatus.COMPLETED]: "Completed",
  [OrchestrationStatus.CONTINUED_AS_NEW]: "ContinuedAsNew",
  [OrchestrationStatus.FAILED]: "Failed",
  [OrchestrationStatus.TERMINATED]: "Terminated",
  [OrchestrationStatus.PENDING]: "Pending",
  [OrchestrationStatus.SUSPENDED]: "Suspended",
};

/** A status's name, as the list and status commands print it. */
export function statusName(status: OrchestrationStatus): string {
  return NAMES[status] ?? `Status${status}`;
}

/** Parses `running,completed` into statuses; names are case-insensitive. */
export function parseStatuses(text: string): OrchestrationStatus[] {
  return text.split(",").map((word) => {
    const w = word.trim().toLowerCase().replace(/[-_]/g, "");
    const found = Object.entries(NAMES).find(
      ([, name]) => name.toLowerCase() === w,
    );
    if (!found) {
      throw new ConfigError(
        `--status "${word}" is not a status; use ${Object.values(NAMES).join(", ")}`,
      );
    }
    return Number(found[0]);
  });
}

/** Whether an instance has ended (it will not change again). */
export function isFinished(status: OrchestrationStatus): boolean {
  return (
    status === OrchestrationStatus.COMPLETED ||
    status === OrchestrationStatus.FAILED ||
    status === OrchestrationStatus.TERMINATED
  );
}

/**
 * Progress in words from a workflow instance's custom status: counts for
 * a batch, the phase for a video, empty for anything else.
 */
export function progressText(state: OrchestrationState): string {
  const custom = parseJson(state.serializedCustomStatus);
  if (typeof custom !== "object" || custom === null) return "";
  if (state.name === "transcribeBatch") {
    const b = custom as BatchStatus;
    return `${b.succeeded + b.failed}/${b.total} done (${b.succeeded} succeeded, ${b.failed} failed, ${b.running} running)`;
  }
  if (state.name === "transcribeVideo") {
    const v = custom as VideoStatus;
    const pct =
      v.progress === undefined ? "" : ` ${Math.round(v.progress * 100)}%`;
    return `${v.phase}${pct} (attempt ${v.attempt})`;
  }
  return "";
}

/** JSON text parsed, or undefined when absent or not JSON. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** An instance as plain JSON, for `--json`. */
export function stateJson(state: OrchestrationState): Record<string, unknown> {
  return {
    instanceId: state.instanceId,
    name: state.name,
    status: statusName(state.runtimeStatus),
    createdAt: state.createdAt.toISOString(),
    lastUpdatedAt: state.lastUpdatedAt.toISOString(),
    customStatus: parseJson(state.serializedCustomStatus) ?? null,
    output: parseJson(state.serializedOutput) ?? null,
    failure: state.failureDetails
      ? {
          type: state.failureDetails.errorType,
          message: state.failureDetails.message,
        }
      : null,
  };
}
