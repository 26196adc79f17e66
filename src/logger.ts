/**
 * One logger for the whole product: levelled, with fields (component,
 * instanceId, ...), one line per record on stderr. Only the CLI decides the
 * level and the format.
 */
import { ConfigError } from "./errors.js";

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 100,
};

/** Every level, most verbose first. */
export const LOG_LEVELS = Object.keys(RANK) as readonly LogLevel[];

/**
 * `value` (default `info`) as a level; a ConfigError naming `name` (the
 * flag or variable it came from) and listing the levels otherwise.
 */
export function parseLogLevel(
  value: string | undefined,
  name: string,
  code?: string,
): LogLevel {
  const level = value ?? "info";
  if ((LOG_LEVELS as readonly string[]).includes(level)) {
    return level as LogLevel;
  }
  throw new ConfigError(
    `${name} "${level}" is not one of ${LOG_LEVELS.join(", ")}`,
    code,
  );
}

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
