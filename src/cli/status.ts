/**
 * `durascribe status <id>`: one instance's status, timing and progress.
 */
import { ConfigError } from "../errors.js";
import {
  CONNECTION_USAGE,
  oneId,
  parseClientArgs,
  progressText,
  stateJson,
  statusName,
  withClient,
} from "./client.js";

/** Usage lines of the status command. */
export const STATUS_USAGE = `  status  show an instance (a batch, a video): status, times, progress
          <instanceId> [--json]
${CONNECTION_USAGE}`;

/** Runs `durascribe status`. */
export async function statusCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseClientArgs(args, {
    json: { type: "boolean" },
  });
  const id = oneId(positionals, "status");
  const state = await withClient(values, (c) =>
    c.getOrchestrationState(id, true),
  );
  if (!state) {
    throw new ConfigError(
      `no instance "${id}" in this task hub`,
      "E_NOT_FOUND",
    );
  }
  if (values.json) {
    console.log(JSON.stringify(stateJson(state), null, 2));
    return;
  }
  const lines: [string, string][] = [
    ["instance", state.instanceId],
    ["name", state.name],
    ["status", statusName(state.runtimeStatus)],
    ["created", state.createdAt.toISOString()],
    ["updated", state.lastUpdatedAt.toISOString()],
  ];
  const progress = progressText(state);
  if (progress) lines.push(["progress", progress]);
  if (state.failureDetails) {
    lines.push(["failure", state.failureDetails.message]);
  }
  for (const [k, v] of lines) console.log(`${k.padEnd(9)} ${v}`);
}
