/**
 * Progress bars on the terminal, one per item (a file, a video), used by
 * `durascribe transcribe` and `durascribe run`. On a TTY the live bars are
 * redrawn in place a few times a second and a finished bar scrolls up as
 * a line of its own; anywhere else (a log file, CI) each change of phase
 * is one plain line, so the output stays readable and short.
 */

/** Where bars are drawn: process.stderr, or any stream in a test. */
export interface ProgressOutput {
  write(text: string): unknown;
  /** True for a terminal. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

/** Options of {@link ProgressBoard}. */
export interface ProgressBoardOptions {
  /** Redraw in place. @default output.isTTY */
  tty?: boolean;
  /** Least time between two redraws on a TTY. @default 100 */
  intervalMs?: number;
}

const LABEL_MAX = 32;
const BAR_MIN = 10;
const BAR_MAX = 30;

/**
 * A set of bars drawn together. Bars are added as items start; call
 * {@link ProgressBoard.close} at the end for a last redraw.
 */
export class ProgressBoard {
  private readonly live: ProgressBar[] = [];
  private readonly tty: boolean;
  private readonly intervalMs: number;
  /** Lines of the live area now on screen, to move back over. */
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = -Infinity;
  private closed = false;
  /** The widest label so far, so columns stay put as bars come and go. */
  private labelWidth = 0;

  constructor(
    private readonly out: ProgressOutput,
    opts: ProgressBoardOptions = {},
  ) {
    this.tty = opts.tty ?? out.isTTY === true;
    this.intervalMs = opts.intervalMs ?? 100;
  }

  /** A new bar for `label` (a file name, a video title), at the bottom. */
  add(label: string): ProgressBar {
    const bar = new ProgressBar(this, label);
    this.live.push(bar);
    this.labelWidth = Math.min(
      LABEL_MAX,
      Math.max(this.labelWidth, label.length),
    );
    if (this.tty) this.changed();
    return bar;
  }

  /** Draws what is left and stops; later changes are ignored. */
  close(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.redraw();
    this.closed = true;
  }

  /** @internal A bar changed: redraw soon, or at once if it ended. */
  changed(bar?: ProgressBar, phaseChanged = false): void {
    if (this.closed) return;
    if (!this.tty) {
      if (bar && phaseChanged) this.out.write(`${bar.plainLine()}\n`);
      return;
    }
    if (bar?.finished) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.redraw();
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastDraw + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.redraw();
    }, wait);
    this.timer.unref();
  }

  private redraw(): void {
    if (!this.tty) return;
    this.lastDraw = Date.now();
    // A pseudo-terminal may say 0 columns: then assume the usual 80.
    const width = this.out.columns || 80;
    const labelWidth = this.labelWidth;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";

    // Finished bars are written once above the live area and left there.
    const done = this.live.filter((b) => b.finished);
    for (const bar of done) {
      text += `\r\x1b[2K${bar.ttyLine(labelWidth, width)}\n`;
      this.live.splice(this.live.indexOf(bar), 1);
    }
    for (const bar of this.live) {
      text += `\r\x1b[2K${bar.ttyLine(labelWidth, width)}\n`;
    }
    // Bars leave the live area only by finishing, and each finished one
    // takes a line of its own: the old area is always overwritten whole.
    this.drawn = this.live.length;
    this.out.write(text);
  }
}

/** One item's bar: a phase, a fraction within it, and an end. */
export class ProgressBar {
  private phase = "queued";
  private fraction: number | undefined;
  private detail = "";
  private outcome: "done" | "failed" | undefined;

  /** @internal Made by {@link ProgressBoard.add}. */
  constructor(
    private readonly board: ProgressBoard,
    readonly label: string,
  ) {}

  /** True once {@link done} or {@link fail} was called. */
  get finished(): boolean {
    return this.outcome !== undefined;
  }

  /**
   * Sets the phase (`downloading`, `transcribing`...) and the fraction
   * done within it (0..1), or no fraction when it cannot be known.
   */
  update(phase: string, fraction?: number, detail = ""): void {
    if (this.finished) return;
    const phaseChanged = phase !== this.phase;
    this.phase = phase;
    this.fraction =
      fraction === undefined ? undefined : Math.max(0, Math.min(1, fraction));
    this.detail = detail;
    this.board.changed(this, phaseChanged);
  }

  /** Ends the bar as a success, with a short note such as `12.3 s`. */
  done(detail = ""): void {
    this.end("done", detail);
  }

  /** Ends the bar as a failure, with the error's one line. */
  fail(detail: string): void {
    this.end("failed", detail);
  }

  private end(outcome: "done" | "failed", detail: string): void {
    if (this.finished) return;
    this.outcome = outcome;
    this.phase = outcome;
    this.fraction = outcome === "done" ? 1 : this.fraction;
    this.detail = detail;
    this.board.changed(this, true);
  }

  /** @internal The line for a log: `label: phase detail`. */
  plainLine(): string {
    return [`${this.label}:`, this.phase, this.detail]
      .filter((s) => s !== "")
      .join(" ");
  }

  /** @internal The line on a terminal of `width` columns. */
  ttyLine(labelWidth: number, width: number): string {
    const label = fit(this.label, labelWidth);
    const barWidth = Math.max(
      BAR_MIN,
      Math.min(BAR_MAX, width - labelWidth - 30),
    );
    const filled = Math.round((this.fraction ?? 0) * barWidth);
    const bar =
      this.fraction === undefined && !this.finished
        ? "-".repeat(barWidth)
        : "#".repeat(filled) + "-".repeat(barWidth - filled);
    const percent =
      this.fraction === undefined
        ? "    "
        : `${String(Math.round(this.fraction * 100)).padStart(3)}%`;
    const tail = [this.phase, this.detail].filter((s) => s !== "").join(" ");
    return `${label} [${bar}] ${percent} ${tail}`.slice(0, width - 1);
  }
}

/** `text` padded or cut to `width`, keeping its end (the file name). */
function fit(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width);
  if (width <= 1) return text.slice(-width);
  return `…${text.slice(text.length - width + 1)}`;
}
