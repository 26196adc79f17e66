/**
 * The `durascribe` command. The CLI is the only part that prints to the
 * console; each sub-command lives in a file of its own in this folder.
 */
import { DurascribeError } from "../errors.js";
import { ConfigError } from "../config.js";
import { HUB_USAGE, hubCommand } from "./hub.js";

/** A sub-command: its usage lines and what runs it. */
interface Command {
  usage: string;
  run(args: string[]): Promise<void>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  hub: { usage: HUB_USAGE, run: hubCommand },
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => c.usage);
  return `usage: durascribe <command> [options]\n\ncommands:\n${lines.join("")}`;
}

/** Runs the CLI with arguments (without node and script). */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || ["help", "--help", "-h"].includes(name)) {
      process.stdout.write(usage());
      return;
    }
    const command = COMMANDS[name];
    if (command === undefined) {
      throw new ConfigError(`unknown command "${name}"\n${usage()}`);
    }
    await command.run(rest);
  } catch (err) {
    console.error(
      `durascribe: ${err instanceof Error ? err.message : String(err)}`,
    );
    process.exitCode = err instanceof DurascribeError ? err.exitCode : 1;
  }
}
