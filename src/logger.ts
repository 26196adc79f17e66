/**
 * One logger for the whole product: levelled, with fields (component,
 * instanceId, ...), one line per record on stderr. Only the CLI decides the
 * level and the format.
 */

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 100,
};

/** Fields attached to a record. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Where records go; a test can collect them. */
export type LogSink = (line: string) => void;

/** A logger with fixed fields. */
export class Logger {
  constructor(
    private readonly level: LogLevel = "info",
    private readonly fields: LogFields = {},
    private readonly sink: LogSink = (line) => process.stderr.write(line),
  ) {}

  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger {
    return new Logger(this.level, { ...this.fields, ...fields }, this.sink);
  }

  /** Whether records at `level` are written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.write("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.write("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.write("error", msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const all = { ...this.fields, ...fields };
    const extra = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : String(v)}`,
      )
      .join(" ");
    const time = new Date().toISOString();
    this.sink(`${time} ${level} ${msg}${extra ? " " + extra : ""}\n`);
  }
}

/** A logger that writes nothing. */
export const silentLogger = new Logger("silent");
