/**
 * Stopping a running pipeline on SIGTERM or SIGINT, for `durascribe job`
 * and `durascribe transcribe`.
 */
import { rmSync } from "node:fs";

import { TransientError } from "../errors.js";
import type { Logger } from "../logger.js";

/** How long cleanup may take after a signal before the process just exits. */
const STOP_GRACE_MS = 10_000;

/**
 * Turns SIGTERM and SIGINT into an abort of {@link Stopper.signal}, with a
 * TransientError as reason: the pipeline cleans up, writes a failed
 * manifest and exits 4. Should that hang (a native call that does not
 * heed the abort), the temp folder is removed and the process exits 4
 * after a grace period; a second signal does so at once.
 */
export class Stopper {
  private readonly controller = new AbortController();
  /** The pipeline's temp folder, once made, to remove on a hard exit. */
  tempFolder: string | undefined;
  private reason = "";
  private readonly onSignal = (signal: NodeJS.Signals): void =>
    this.stop(signal);

  /**
   * @param message The abort's message for a signal, such as "stopped by
   *   SIGTERM".
   */
  constructor(
    private readonly logger: Logger,
    private readonly message: (signal: NodeJS.Signals) => string,
  ) {
    process.on("SIGTERM", this.onSignal);
    process.on("SIGINT", this.onSignal);
  }

  /** Aborted on the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops listening for signals. */
  dispose(): void {
    process.off("SIGTERM", this.onSignal);
    process.off("SIGINT", this.onSignal);
  }

  private stop(signal: NodeJS.Signals): void {
    if (this.controller.signal.aborted) {
      this.exitNow(`stopped by a second ${signal}`);
      return;
    }
    this.logger.info("stopping", { signal });
    this.reason = this.message(signal);
    this.controller.abort(new TransientError(this.reason, "E_STOPPED"));
    setTimeout(
      () => this.exitNow(`cleanup took over ${STOP_GRACE_MS / 1000} s`),
      STOP_GRACE_MS,
    ).unref();
  }

  private exitNow(why: string): void {
    if (this.tempFolder !== undefined) {
      rmSync(this.tempFolder, { recursive: true, force: true });
    }
    console.error(`durascribe: ${this.reason} (${why})`);
    process.exit(4);
  }
}
