/**
 * The local runner: each job execution is a child process on this machine,
 * at most `maxConcurrent` at once, the rest queued. Every execution has a
 * record in a folder (default `.durascribe/executions`), so a worker that
 * is restarted still answers status for executions an earlier process
 * started, and adopts the queue it left.
 *
 * Files per execution `<name>`:
 * - `<name>.json`: the record (spec, state, pid), written atomically;
 * - `<name>.log`: the job's stdout and stderr;
 * - `<name>.exit`: the exit code, written by a small shell wrapper around
 *   the job after it ends, so it is recorded even when no worker is alive
 *   to see the exit.
 *
 * A running record whose process is gone without an exit file vanished
 * (killed with SIGKILL, machine rebooted): it is Failed, with no exit code.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { ConfigError } from "../errors.js";
import { silentLogger, type Logger } from "../logger.js";
import {
  RecordFolder,
  isAlive,
  processStart,
  signalGroup,
  type ExecutionRecord,
} from "./local-records.js";
import { executionName } from "./names.js";
import type { ExecutionStatus, JobRunner, JobSpec } from "./runner.js";

/** Options of {@link LocalRunner.open}. */
export interface LocalRunnerOptions {
  /** Folder of the execution records. */
  dir: string;
  /** Executions running at once; the rest wait in a queue. */
  maxConcurrent: number;
  /**
   * The job's command line. @default node <package>/bin/durascribe.js job
   */
  command?: readonly string[];
  /**
   * The environment every execution inherits (PATH, HOME, credentials);
   * the spec's own variables are laid over it.
   */
  baseEnv?: Readonly<Record<string, string | undefined>>;
  /** How often adopted processes (not our children) are checked. */
  adoptPollMs?: number;
  logger?: Logger;
}

// Runs the job, then records its exit code atomically beside the record.
const WRAPPER =
  'exitfile="$1"; shift; "$@"; code=$?; ' +
  'printf "%s" "$code" > "$exitfile.tmp" && mv "$exitfile.tmp" "$exitfile"; ' +
  'exit "$code"';

const packageRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** The default job command: this package's CLI, `durascribe job`. */
export function defaultJobCommand(): string[] {
  return [process.execPath, path.join(packageRoot, "bin/durascribe.js"), "job"];
}

/** Child processes on this machine, behind {@link JobRunner}. */
export class LocalRunner implements JobRunner {
  readonly kind = "local";
  private readonly queue: string[] = [];
  private readonly children = new Map<string, ChildProcess>();
  /** Running executions started by an earlier process, still alive. */
  private readonly adopted = new Set<string>();
  private adoptTimer: NodeJS.Timeout | undefined;
  /** Per-record queue of updates, so a stop and a launch never interleave. */
  private readonly locks = new Map<string, Promise<void>>();
  private readonly log: Logger;
  private readonly command: readonly string[];
  private closed = false;
  private readonly records: RecordFolder;

  private constructor(private readonly options: LocalRunnerOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: "local" });
    this.records = new RecordFolder(options.dir);
    this.command = options.command ?? defaultJobCommand();
    if (this.command.length === 0) {
      throw new ConfigError("the local runner's job command is empty");
    }
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new ConfigError(
        `the local runner's concurrency ${options.maxConcurrent} is not a whole number of at least 1`,
      );
    }
  }

  /**
   * Opens the runner on its folder: adopts the executions an earlier
   * process left running and starts the ones it left queued.
   */
  static async open(options: LocalRunnerOptions): Promise<LocalRunner> {
    const runner = new LocalRunner(options);
    await mkdir(options.dir, { recursive: true });
    await runner.records.lock();
    await runner.adopt();
    runner.pump();
    return runner;
  }

  /** Folder of the records. */
  get dir(): string {
    return this.options.dir;
  }

  /** Path of an execution's log file. */
  logPath(name: string): string {
    return path.join(this.options.dir, `${name}.log`);
  }

  /** Queues (or, with a free slot, starts) the spec; idempotent per key. */
  async start(spec: JobSpec): Promise<string> {
    const name = executionName(spec.key, 100);
    if (await this.records.read(name)) return name;

    const record: ExecutionRecord = {
      version: 1,
      name,
      key: spec.key,
      env: { ...spec.env },
      command: [...this.command],
      state: "queued",
      createdAt: new Date().toISOString(),
    };
    await this.records.write(record);
    this.queue.push(name);
    this.pump();
    return name;
  }

  /** The state from the record, the exit file and the process table. */
  async status(name: string): Promise<ExecutionStatus> {
    const record = await this.records.read(name);
    if (!record) return { state: "Unknown" };
    const startedAt = record.startedAt;
    const ended = (code: number): ExecutionStatus => ({
      state: code === 0 ? "Succeeded" : "Failed",
      exitCode: code,
      startedAt,
    });
    const exit = await this.records.exitCode(name);
    if (exit !== undefined) return ended(exit);
    if (record.state === "stopped") return { state: "Stopped", startedAt };
    if (record.state === "queued") return { state: "Processing" };
    if (this.children.has(name) || isAlive(record)) {
      return { state: "Running", startedAt };
    }

    // The wrapper writes the exit file just before it exits: look again.
    const late = await this.records.exitCode(name);
    if (late !== undefined) return ended(late);
    return {
      state: "Failed",
      detail: `process ${record.pid} vanished without recording an exit code`,
      startedAt,
    };
  }

  /** Removes a queued execution, or sends SIGTERM to a running one. */
  async stop(name: string): Promise<void> {
    await this.locked(name, async () => {
      const record = await this.records.read(name);
      if (!record || record.state === "stopped") return;
      if ((await this.records.exitCode(name)) !== undefined) return;
      record.state = "stopped";
      await this.records.write(record);

      const queued = this.queue.indexOf(name);
      if (queued >= 0) this.queue.splice(queued, 1);
      const pid = this.children.get(name)?.pid ?? record.pid;
      if (pid !== undefined && (this.children.has(name) || isAlive(record))) {
        // The job runs in a process group of its own: signal all of it.
        signalGroup(pid, "SIGTERM");
      }
    });
  }

  /** Queued and running executions, from the records. */
  async unfinished(): Promise<{ name: string; key: string }[]> {
    return (await this.openRecords()).map((r) => ({
      name: r.name,
      key: r.key,
    }));
  }

  /**
   * Stops watching. Running executions are left to finish (their exit
   * files record how) unless `stopRunning` (they become Stopped) or
   * `interruptRunning` (they get SIGTERM and end as the job ends on a
   * signal: a transient failure, retried when the batch resumes). Queued
   * ones stay queued for the next process that opens the folder.
   */
  async close(
    opts: { stopRunning?: boolean; interruptRunning?: boolean } = {},
  ): Promise<void> {
    this.closed = true;
    clearInterval(this.adoptTimer);
    await this.records.unlock();
    const names = [...this.children.keys(), ...this.adopted];
    if (opts.stopRunning) {
      await Promise.all(names.map((n) => this.stop(n)));
    } else if (opts.interruptRunning) {
      for (const name of names) {
        const record = await this.records.read(name);
        const pid = this.children.get(name)?.pid ?? record?.pid;
        if (pid !== undefined) signalGroup(pid, "SIGTERM");
      }
    }
  }

  /** Executions running now (ours and adopted). */
  get running(): number {
    return this.children.size + this.adopted.size;
  }

  private pump(): void {
    while (
      !this.closed &&
      this.running < this.options.maxConcurrent &&
      this.queue.length > 0
    ) {
      const name = this.queue.shift()!;
      void this.launch(name).catch((err: unknown) =>
        this.log.error("cannot start job execution", {
          execution: name,
          error: String(err),
        }),
      );
    }
  }

  private async launch(name: string): Promise<void> {
    const record = await this.records.read(name);
    if (!record || record.state !== "queued") return this.pump();
    const exitFile = path.join(this.options.dir, `${name}.exit`);
    const log = openSync(this.logPath(name), "a");
    let child: ChildProcess;
    try {
      child = spawn(
        "/bin/sh",
        ["-c", WRAPPER, "durascribe-job", exitFile, ...record.command],
        {
          env: { ...this.options.baseEnv, ...record.env },
          stdio: ["ignore", log, log],
          detached: true,
        },
      );
    } finally {
      closeSync(log);
    }
    this.children.set(name, child);
    child.unref();
    child.once("exit", () => {
      this.children.delete(name);
      this.pump();
    });
    child.once("error", (err) => {
      this.log.error("job execution failed to spawn", {
        execution: name,
        error: err.message,
      });
    });

    const pidStart = await processStart(child.pid);
    await this.locked(name, async () => {
      // A stop that came while spawning wins: the record stays stopped.
      const current = await this.records.read(name);
      if (current?.state === "stopped") {
        if (child.pid !== undefined) signalGroup(child.pid, "SIGTERM");
        return;
      }
      await this.records.write({
        ...record,
        state: "running",
        startedAt: new Date().toISOString(),
        pid: child.pid,
        pidStart,
      });
    });
    this.log.info("job execution started", { execution: name, pid: child.pid });
  }

  /** Runs `fn` after any earlier locked update of the same record. */
  private locked(name: string, fn: () => Promise<void>): Promise<void> {
    const before = this.locks.get(name) ?? Promise.resolve();
    const next = before.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(name, settled);
    void settled.then(() => {
      if (this.locks.get(name) === settled) this.locks.delete(name);
    });
    return next;
  }

  /** Reads every record: alive ones are adopted, queued ones queued. */
  private async adopt(): Promise<void> {
    const records = await this.openRecords();
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const r of records) {
      if (r.state === "queued") this.queue.push(r.name);
      else this.adopted.add(r.name);
    }
    if (this.adopted.size > 0) {
      this.adoptTimer = setInterval(
        () => this.checkAdopted(),
        this.options.adoptPollMs ?? 1000,
      );
      this.adoptTimer.unref();
    }
  }

  /**
   * The records of executions that have not ended: queued, or running
   * with their process alive, and no exit file yet.
   */
  private async openRecords(): Promise<ExecutionRecord[]> {
    const open: ExecutionRecord[] = [];
    for (const name of await this.records.names()) {
      const r = await this.records.read(name);
      if (!r || (await this.records.exitCode(name)) !== undefined) continue;
      if (r.state === "queued" || (r.state === "running" && isAlive(r))) {
        open.push(r);
      }
    }
    return open;
  }

  private checkAdopted(): void {
    void (async () => {
      for (const name of [...this.adopted]) {
        const record = await this.records.read(name);
        if (!record || !isAlive(record)) this.adopted.delete(name);
      }
      if (this.adopted.size === 0) clearInterval(this.adoptTimer);
      this.pump();
    })();
  }
}
