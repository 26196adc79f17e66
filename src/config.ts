/**
 * Configuration: one schema per command for flags and environment
 * variables, validated once into a frozen object. Nothing else reads
 * process.env. Each command's settings have a section of their own below.
 */
import { ConfigError } from "./errors.js";
import { parseLogLevel, type LogLevel } from "./logger.js";

export { ConfigError };

/** Settings of `durascribe hub`. */
export interface HubConfig {
  readonly host: string;
  readonly port: number;
  /** `sqlite:<path>`. */
  readonly store: string;
  readonly token: string | undefined;
  readonly logLevel: LogLevel;
  /** Serve the dashboard (`--no-dashboard`, DURASCRIBE_DASHBOARD=false: off). */
  readonly dashboard: boolean;
  /**
   * The dashboard's port, default 8082, or 0 (a free one) when the hub's
   * own port is 0, so a hub started on a free port never collides.
   */
  readonly dashboardPort: number;
  /**
   * AZURE_STORAGE_CONNECTION_STRING, for the dashboard to read transcripts
   * in Blob Storage; unset, it uses the Azure identity of the process.
   */
  readonly blobConnectionString: string | undefined;
}

/** Raw inputs: parsed flags win over environment variables. */
export interface HubConfigInput {
  flags: Record<string, string | boolean | undefined>;
  env: Record<string, string | undefined>;
}

/** Validates hub settings. */
export function hubConfig({ flags, env }: HubConfigInput): HubConfig {
  const pick = (flag: string, envName: string): string | undefined => {
    const f = flags[flag];
    if (typeof f === "string") return f;
    return env[envName];
  };
  const port = parsePort(pick("port", "DURASCRIBE_HUB_PORT") ?? "8080");
  const logLevel = parseLogLevel(
    pick("log-level", "DURASCRIBE_LOG_LEVEL"),
    "--log-level",
  );
  const store =
    pick("store", "DURASCRIBE_STORE") ?? "sqlite:.durascribe/hub.db";
  parseStore(store);
  const token = pick("token", "DURASCRIBE_TOKEN");
  if (token !== undefined && token.length === 0) {
    throw new ConfigError("--token is empty; give a secret or leave it out");
  }
  return Object.freeze({
    host: pick("host", "DURASCRIBE_HUB_HOST") ?? "127.0.0.1",
    port,
    store,
    token,
    logLevel,
    dashboard:
      flags["no-dashboard"] !== true &&
      parseSwitch(env.DURASCRIBE_DASHBOARD, "DURASCRIBE_DASHBOARD", true),
    dashboardPort: parsePort(
      pick("dashboard-port", "DURASCRIBE_DASHBOARD_PORT") ??
        (port === 0 ? "0" : "8082"),
      "--dashboard-port",
    ),
    blobConnectionString: env.AZURE_STORAGE_CONNECTION_STRING || undefined,
  });
}

function parsePort(value: string, flag = "--port"): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${flag} "${value}" is not a port number (0-65535)`);
  }
  return port;
}

function parseSwitch(
  value: string | undefined,
  name: string,
  fallback: boolean,
): boolean {
  if (value === undefined || value === "") return fallback;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} "${value}" is not true or false`);
}

/** A parsed store location. */
export type StoreSpec =
  { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Parses `sqlite:<path>` or `postgres://...`. */
export function parseStore(spec: string): StoreSpec {
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (!path) throw new ConfigError(`--store "${spec}" names no file`);
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      new URL(spec);
    } catch {
      throw new ConfigError(`--store "${redact(spec)}" is not a valid URL`);
    }
    return { kind: "postgres", url: spec };
  }
  throw new ConfigError(
    `--store "${redact(spec)}" is not a store; use sqlite:<path> or postgres://user@host/db`,
  );
}

function redact(spec: string): string {
  return spec.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
