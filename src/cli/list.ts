/**
 * `durascribe list`: instances of the task hub, newest first, filtered.
 */
import type { OrchestrationState } from "@microsoft/durabletask-js";

import { positiveInt } from "../workflow/worker-config.js";
import {
  CONNECTION_USAGE,
  parseClientArgs,
  parseStatuses,
  progressText,
  stateJson,
  statusName,
  text,
  withClient,
} from "./client.js";

/** Usage lines of the list command. */
export const LIST_USAGE = `  list    list instances (batches only, unless --all), newest first
          [--status running,completed,failed,...] [--prefix <id>]
          [--name transcribeBatch] [--all] [--limit 50] [--json]
${CONNECTION_USAGE}`;

/** Runs `durascribe list`. */
export async function listCommand(args: string[]): Promise<void> {
  const { values } = parseClientArgs(args, {
    status: { type: "string" },
    prefix: { type: "string" },
    name: { type: "string" },
    all: { type: "boolean" },
    limit: { type: "string" },
    json: { type: "boolean" },
  });
  const limit = positiveInt(text(values, "limit") ?? "50", "--limit");
  const status = text(values, "status");
  const statuses = status ? parseStatuses(status) : undefined;
  const prefix = text(values, "prefix");
  const name = text(values, "name");
  // Videos and child batches have "/" in their ids; they are hidden unless
  // asked for, or a prefix picks them.
  const wanted = (s: OrchestrationState) =>
    (values.all === true ||
      prefix !== undefined ||
      !s.instanceId.includes("/")) &&
    (name === undefined || s.name === name);

  const found = await withClient(values, async (client) => {
    const all: OrchestrationState[] = [];
    for await (const s of client.getAllInstances({
      statuses,
      instanceIdPrefix: prefix,
      pageSize: 100,
      // Custom status (the progress column) only comes with the payloads.
      fetchInputsAndOutputs: true,
    })) {
      if (wanted(s)) all.push(s);
    }
    return all;
  });
  found.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const shown = found.slice(0, limit);

  if (values.json) {
    console.log(JSON.stringify(shown.map(stateJson), null, 2));
    return;
  }
  const rows = shown.map((s) => [
    s.instanceId,
    s.name,
    statusName(s.runtimeStatus),
    s.createdAt.toISOString().replace(/\.\d+Z$/, "Z"),
    progressText(s),
  ]);
  printTable(["ID", "NAME", "STATUS", "CREATED", "PROGRESS"], rows);
  if (found.length > shown.length) {
    console.log(`(${found.length - shown.length} more; raise --limit)`);
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i]!.length)),
  );
  for (const r of [header, ...rows]) {
    console.log(
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    );
  }
}
