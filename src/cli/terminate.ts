/**
 * `durascribe terminate <id>`: ends an instance and its sub-orchestrations;
 * the workers then stop the job executions those had running.
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
  // Job executions still running are stopped by the worker that holds
  // their runner, at its next sweep (src/workflow/watch.ts).
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
