/**
 * `durascribe suspend <id>`: pauses an instance until it is resumed.
 */
import {
  CONNECTION_USAGE,
  oneId,
  parseClientArgs,
  withClient,
} from "./client.js";

/** Usage lines of the suspend command. */
export const SUSPEND_USAGE = `  suspend pause an instance (its running job executions go on) until resumed
          <instanceId>
${CONNECTION_USAGE}`;

/** Runs `durascribe suspend`. */
export async function suspendCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseClientArgs(args);
  const id = oneId(positionals, "suspend");
  await withClient(values, (c) => c.suspendOrchestration(id));
  console.log(`suspended ${id}`);
}
