/**
 * `durascribe purge`: deletes finished instances (with their children)
 * from the task hub, by id or by status and age.
 */
import {
  OrchestrationStatus,
  PurgeInstanceCriteria,
} from "@microsoft/durabletask-js";

import { ConfigError } from "../errors.js";
import {
  CONNECTION_USAGE,
  isFinished,
  parseClientArgs,
  parseStatuses,
  text,
  withClient,
} from "./client.js";

/** Usage lines of the purge command. */
export const PURGE_USAGE = `  purge   delete finished instances and their children
          <instanceId> | --status completed,failed,terminated [--before <ISO time>]
${CONNECTION_USAGE}`;

/** Runs `durascribe purge`. */
export async function purgeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseClientArgs(args, {
    status: { type: "string" },
    before: { type: "string" },
  });
  if (
    positionals.length > 1 ||
    (positionals.length === 1) === (text(values, "status") !== undefined)
  ) {
    throw new ConfigError(
      "durascribe purge takes one instance id, or --status (with --before), not both",
    );
  }
  const result = await withClient(values, (c) => {
    if (positionals[0] !== undefined) {
      return c.purgeOrchestration(positionals[0], { recursive: true });
    }
    return c.purgeOrchestration(
      criteria(text(values, "status")!, text(values, "before")),
      {
        recursive: true,
      },
    );
  });
  console.log(`purged ${result?.deletedInstanceCount ?? 0} instances`);
}

function criteria(
  status: string,
  before: string | undefined,
): PurgeInstanceCriteria {
  const statuses = parseStatuses(status);
  const running = statuses.filter((s) => !isFinished(s));
  if (running.length > 0) {
    throw new ConfigError(
      `--status may name only finished statuses (completed, failed, terminated), not ${running
        .map((s) => OrchestrationStatus[s])
        .join(", ")
        .toLowerCase()}`,
    );
  }
  const c = new PurgeInstanceCriteria();
  c.setRuntimeStatusList(statuses);
  if (before !== undefined) {
    const to = new Date(before);
    if (Number.isNaN(to.getTime())) {
      throw new ConfigError(
        `--before "${before}" is not a date or time (ISO 8601)`,
      );
    }
    c.setCreatedTimeTo(to);
  }
  return c;
}
