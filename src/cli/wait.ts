/**
 * `durascribe wait <id>`: waits until an instance ends; the exit code says
 * how it ended.
 */
import { OrchestrationStatus } from "@microsoft/durabletask-js";

import { ConfigError, TransientError } from "../errors.js";
import { positiveInt } from "../workflow/worker-config.js";
import {
  CONNECTION_USAGE,
  isFinished,
  oneId,
  parseClientArgs,
  progressText,
  statusName,
  text,
  withClient,
} from "./client.js";

/** Usage lines of the wait command. */
export const WAIT_USAGE = `  wait    wait until an instance ends; exit 0 if it completed, 1 if not,
          4 on timeout
          <instanceId> [--timeout 86400]
${CONNECTION_USAGE}`;

/** Runs `durascribe wait`. */
export async function waitCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseClientArgs(args, {
    timeout: { type: "string" },
  });
  const id = oneId(positionals, "wait");
  const timeout = positiveInt(text(values, "timeout") ?? "86400", "--timeout");
  const state = await withClient(values, async (client) => {
    // Polled rather than one long call: a call left waiting past the
    // deadline would hold the process open.
    const deadline = Date.now() + timeout * 1000;
    for (let delay = 100; ; delay = Math.min(2000, delay * 2)) {
      const s = await client.getOrchestrationState(id, false);
      if (!s) {
        throw new ConfigError(
          `no instance "${id}" in this task hub`,
          "E_NOT_FOUND",
        );
      }
      if (isFinished(s.runtimeStatus)) {
        return (await client.getOrchestrationState(id, true)) ?? s;
      }
      if (Date.now() + delay > deadline) {
        throw new TransientError(
          `instance "${id}" has not ended after ${timeout} s`,
          "E_WAIT_TIMEOUT",
        );
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  });

  const progress = progressText(state);
  console.log(
    `${id} ${statusName(state.runtimeStatus)}${progress ? `: ${progress}` : ""}`,
  );
  if (state.runtimeStatus !== OrchestrationStatus.COMPLETED) {
    if (state.failureDetails) console.error(state.failureDetails.message);
    process.exitCode = 1;
  }
}
