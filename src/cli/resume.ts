/**
 * `durascribe resume <id>`: resumes a suspended instance.
 */
import {
  CONNECTION_USAGE,
  oneId,
  parseClientArgs,
  withClient,
} from "./client.js";

/** Usage lines of the resume command. */
export const RESUME_USAGE = `  resume  resume a suspended instance
          <instanceId>
${CONNECTION_USAGE}`;

/** Runs `durascribe resume`. */
export async function resumeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseClientArgs(args);
  const id = oneId(positionals, "resume");
  await withClient(values, (c) => c.resumeOrchestration(id));
  console.log(`resumed ${id}`);
}
