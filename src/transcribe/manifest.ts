/**
 * The manifest `<base>.manifest.json` a job execution leaves beside its
 * transcripts, so an orchestration (or a person) can read how the job
 * went without its logs: written when the job starts, at most every
 * 2 s while it runs, and last when it ends. Every write is atomic.
 */
import type { Logger } from "../logger.js";
import { silentLogger } from "../logger.js";
import type { TranscriptStore } from "../storage/store.js";
import { manifestName, type JobManifest } from "../manifest.js";

export type {
  JobManifest,
  JobPhase,
  JobStatus,
  ManifestError,
} from "../manifest.js";
export { manifestName };

/** A fresh manifest of a job execution that starts now. */
export function startingManifest(
  source: string,
  base: string,
  model: string,
  now = new Date(),
): JobManifest {
  return {
    version: 1,
    status: "running",
    phase: "fetching",
    progress: 0,
    source,
    base,
    formats: {},
    language: null,
    model,
    audioSeconds: null,
    processingSeconds: null,
    fetchSeconds: null,
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    finishedAt: null,
    error: null,
    exitCode: null,
  };
}

/** Options of {@link ManifestWriter}. */
export interface ManifestWriterOptions {
  /** Least time between two writes while running. @default 2000 */
  intervalMs?: number;
  logger?: Logger;
}

/**
 * Keeps one manifest and writes it to a store: at once on
 * {@link ManifestWriter.start}, then no more often than `intervalMs` as
 * it changes, and at once on {@link ManifestWriter.finish}. A write that
 * fails while running is logged and retried with the next change; the
 * job goes on, since the manifest is not the job's result.
 */
export class ManifestWriter {
  private state: JobManifest;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private lastWrite = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private finished = false;

  constructor(
    private readonly store: TranscriptStore,
    initial: JobManifest,
    opts: ManifestWriterOptions = {},
  ) {
    this.state = structuredClone(initial);
    this.intervalMs = opts.intervalMs ?? 2000;
    this.logger = opts.logger ?? silentLogger;
  }

  /** The manifest as it stands, written or not. */
  get current(): Readonly<JobManifest> {
    return this.state;
  }

  /** The manifest's object name in the store. */
  get name(): string {
    return manifestName(this.state.base);
  }

  /**
   * Writes the first manifest. Unlike later writes, a failure here is
   * thrown: a store that cannot take a manifest will not take transcripts.
   *
   * @returns The manifest's location.
   */
  async start(): Promise<string> {
    this.lastWrite = Date.now();
    return this.put();
  }

  /** Merges `patch` in; it is written within `intervalMs`. */
  update(patch: Partial<JobManifest>): void {
    if (this.finished) return;
    Object.assign(this.state, patch);
    this.dirty = true;
    this.schedule();
  }

  /**
   * Merges `patch` in and writes the final manifest at once, after any
   * write in flight. Later updates are ignored.
   *
   * @returns The manifest's location.
   * @throws whatever the store throws.
   */
  async finish(patch: Partial<JobManifest>): Promise<string> {
    this.finished = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    Object.assign(this.state, patch);
    return this.put();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.writing !== undefined) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writeRunning().finally(() => {
        this.writing = undefined;
        if (this.dirty && !this.finished) this.schedule();
      });
    }, wait);
  }

  private async writeRunning(): Promise<void> {
    this.dirty = false;
    this.lastWrite = Date.now();
    try {
      await this.put();
    } catch (err) {
      this.dirty = true;
      this.logger.warn("manifest update failed", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private put(): Promise<string> {
    this.state.updatedAt = new Date().toISOString();
    const body = `${JSON.stringify(this.state, null, 2)}\n`;
    return this.store.put(this.name, body, "application/json; charset=utf-8");
  }
}
