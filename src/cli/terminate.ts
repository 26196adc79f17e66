/**
 * `durascribe terminate <id>`: ends an instance and its sub-orchestrations.
 */
import { terminateOptions } from "@microsoft/durabletask-js";

import {
  CONNECTION_USAGE,
  oneId,
  parseClientArgs,
  text,
  withClient,
} from "./client.js";

/** Usage lines of the terminate command. */
export const TERMINATE_USAGE = `  terminate  end an instance and its children (videos, child batches)
          <instanceId> [--reason <text>]
${CONNECTION_USAGE}`;

/** Runs `durascribe terminate`. */
export async function terminateCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseClientArgs(args, {
    reason: { type: "string" },
  });
  const id = oneId(positionals, "terminate");
  // TODO: job executions already running keep running on their runner;
  // stopping them needs the runner, which only the worker holds.
  await withClient(values, (c) =>
    c.terminateOrchestration(
      id,
      terminateOptions({
        recursive: true,
        output: text(values, "reason") ?? "terminated from the command line",
      }),
    ),
  );
  console.log(`terminated ${id}`);
}
