/**
 * The `durascribe` command. The CLI is the only part that prints to the
 * console; each sub-command lives in a file of its own in this folder.
 */
import { DurascribeError } from "../errors.js";
import { ConfigError } from "../config.js";
/** A sub-command: its usage lines and what runs it. */
interface Command {
  usage: string;
  run(args: string[]): Promise<void>;
}

/**
 * Each command's module loads only when that command runs: a job
 * execution should not pay for the cloud SDKs or the dashboard.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  hub: async () => {
    const m = await import("./hub.js");
    return { usage: m.HUB_USAGE, run: m.hubCommand };
  },
  models: async () => {
    const m = await import("./models.js");
    return { usage: m.MODELS_USAGE, run: m.modelsCommand };
  },
  job: async () => {
    const m = await import("./job.js");
    return { usage: m.JOB_USAGE, run: m.jobCommand };
  },
  transcribe: async () => {
    const m = await import("./transcribe.js");
    return { usage: m.TRANSCRIBE_USAGE, run: m.transcribeCommand };
  },
  run: async () => {
    const m = await import("./run.js");
    return { usage: m.RUN_USAGE, run: m.runCommand };
  },
  worker: async () => {
    const m = await import("./worker.js");
    return { usage: m.WORKER_USAGE, run: m.workerCommand };
  },
  status: async () => {
    const m = await import("./status.js");
    return { usage: m.STATUS_USAGE, run: m.statusCommand };
  },
  list: async () => {
    const m = await import("./list.js");
    return { usage: m.LIST_USAGE, run: m.listCommand };
  },
  wait: async () => {
    const m = await import("./wait.js");
    return { usage: m.WAIT_USAGE, run: m.waitCommand };
  },
  terminate: async () => {
    const m = await import("./terminate.js");
    return { usage: m.TERMINATE_USAGE, run: m.terminateCommand };
  },
  suspend: async () => {
    const m = await import("./suspend.js");
    return { usage: m.SUSPEND_USAGE, run: m.suspendCommand };
  },
  resume: async () => {
    const m = await import("./resume.js");
    return { usage: m.RESUME_USAGE, run: m.resumeCommand };
  },
  purge: async () => {
    const m = await import("./purge.js");
    return { usage: m.PURGE_USAGE, run: m.purgeCommand };
  },
};

async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((c) => c()));
  const lines = commands.map((c) => c.usage);
  return `usage: durascribe <command> [options]\n\ncommands:\n${lines.join("")}`;
}

/** Runs the CLI with arguments (without node and script). */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || ["help", "--help", "-h"].includes(name)) {
      process.stdout.write(await usage());
      return;
    }
    const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (load === undefined) {
      throw new ConfigError(`unknown command "${name}"\n${await usage()}`);
    }
    await (await load()).run(rest);
  } catch (err) {
    console.error(
      `durascribe: ${err instanceof Error ? err.message : String(err)}`,
    );
    process.exitCode = err instanceof DurascribeError ? err.exitCode : 1;
  }
}
