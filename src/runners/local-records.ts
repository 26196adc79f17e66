/**
 * The local runner's files: one record per execution, written atomically,
 * the exit file its shell wrapper leaves, and the process checks that
 * tell a live execution from one that vanished.
 */
import { readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import { ConfigError, TransientError } from "../errors.js";
import { pidExists, sameProcess } from "../process-identity.js";

export { processStart } from "../process-identity.js";

/** What `<name>.json` holds. */
export interface ExecutionRecord {
  version: 1;
  name: string;
  key: string;
  env: Record<string, string>;
  command: string[];
  state: "queued" | "running" | "stopped";
  createdAt: string;
  startedAt?: string;
  pid?: number;
  /** The process's start time from /proc, to tell a reused pid apart. */
  pidStart?: string;
}

/** The folder of execution records. */
export class RecordFolder {
  constructor(readonly dir: string) {}

  /**
   * Claims the folder for this process: two runners adopting the same
   * queue would start its executions twice. A lock left by a process that
   * is gone is taken over.
   *
   * @throws ConfigError when a live process holds it.
   */
  async lock(): Promise<void> {
    const file = path.join(this.dir, "runner.lock");
    for (let tries = 0; tries < 2; tries++) {
      try {
        await writeFile(file, String(process.pid), { flag: "wx" });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const holder = Number(await readFile(file, "utf8").catch(() => "0"));
      if (pidExists(holder)) {
        throw new ConfigError(
          `the executions folder ${this.dir} is used by another local runner (process ${holder}); stop it or give another --executions-dir`,
          "E_RUNNER_LOCKED",
        );
      }
      await rm(file, { force: true });
    }
  }

  /** Gives the folder up. */
  async unlock(): Promise<void> {
    const file = path.join(this.dir, "runner.lock");
    const holder = await readFile(file, "utf8").catch(() => "");
    if (holder === String(process.pid)) await rm(file, { force: true });
  }

  /** Names of every execution with a record. */
  async names(): Promise<string[]> {
    const files = await readdir(this.dir);
    return files
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length));
  }

  /** The record of `name`, or undefined if it has none. */
  async read(name: string): Promise<ExecutionRecord | undefined> {
    const file = path.join(this.dir, `${name}.json`);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new TransientError(
        `cannot read execution record ${file}: ${(err as Error).message}`,
        "E_RUNNER_RECORD",
      );
    }
    try {
      return JSON.parse(text) as ExecutionRecord;
    } catch {
      throw new TransientError(
        `execution record ${file} is not valid JSON`,
        "E_RUNNER_RECORD",
      );
    }
  }

  /** Replaces the record atomically. */
  async write(record: ExecutionRecord): Promise<void> {
    const file = path.join(this.dir, `${record.name}.json`);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(record, null, 2));
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** The exit code the wrapper recorded, once the job has ended. */
  async exitCode(name: string): Promise<number | undefined> {
    const file = path.join(this.dir, `${name}.exit`);
    try {
      const code = Number((await readFile(file, "utf8")).trim());
      return Number.isInteger(code) ? code : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Whether the record's process still exists (and is the same process). */
export function isAlive(record: ExecutionRecord): boolean {
  return record.pid !== undefined && sameProcess(record.pid, record.pidStart);
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already: nothing to stop.
  }
}
