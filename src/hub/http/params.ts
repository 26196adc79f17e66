/**
 * Validation of the API's query parameters and body fields. Each route
 * names the parameters it knows; anything else is refused, so a misspelt
 * filter is an error rather than a silently unfiltered answer.
 */
import { requireInstanceId } from "../service.js";
import { isTaskHubName } from "../server.js";
import { Status } from "../protocol.js";
import { badRequest } from "./respond.js";

/** Status names as the API writes them, e.g. `RUNNING`, by value. */
export const STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(Status).map(([name, value]) => [value, name]),
);

const STATUS_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(Status).map(([name, value]) => [name, value]),
);

// Dates as ISO 8601: a day (UTC midnight) or a time with a zone.
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A route's query string, checked against the parameters it knows. */
export class Query {
  private readonly params: URLSearchParams;

  constructor(search: URLSearchParams, known: readonly string[]) {
    this.params = search;
    const allowed = new Set([...known, "taskhub"]);
    for (const name of new Set(search.keys())) {
      if (!allowed.has(name)) {
        throw badRequest(
          `unknown query parameter "${name}"; this endpoint takes ${[...allowed].join(", ")}`,
        );
      }
      if (search.getAll(name).length > 1) {
        throw badRequest(`query parameter "${name}" is given more than once`);
      }
    }
  }

  /** A string parameter, trimmed; undefined when absent or empty. */
  string(name: string, maxLength = 256): string | undefined {
    const raw = this.params.get(name)?.trim();
    if (!raw) return undefined;
    if (raw.length > maxLength) {
      throw badRequest(
        `${name} is ${raw.length} characters; the limit is ${maxLength}`,
      );
    }
    return raw;
  }

  /** An integer parameter within [min, max], or `fallback` when absent. */
  int(name: string, min: number, max: number, fallback: number): number {
    const raw = this.string(name, 20);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) {
      throw badRequest(
        `${name} "${raw}" is not a whole number from ${min} to ${max}`,
      );
    }
    return n;
  }

  /** A yes/no parameter: true/false, 1/0; `fallback` when absent. */
  bool(name: string, fallback = false): boolean {
    const raw = this.string(name, 10)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    throw badRequest(`${name} "${raw}" is not true or false`);
  }

  /** A time as epoch milliseconds, from ISO 8601. */
  time(name: string): number | undefined {
    const raw = this.string(name, 40);
    if (raw === undefined) return undefined;
    const ms = ISO_TIME.test(raw) ? Date.parse(raw) : NaN;
    if (Number.isNaN(ms)) {
      throw badRequest(
        `${name} "${raw}" is not an ISO 8601 date or time with a zone, e.g. 2025-05-19 or 2025-05-19T16:00:00Z`,
      );
    }
    return ms;
  }

  /** One of `choices`, or `fallback` when absent. */
  choice<T extends string>(
    name: string,
    choices: readonly T[],
    fallback: T,
  ): T {
    const raw = this.string(name, 40);
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      throw badRequest(`${name} "${raw}" is not one of ${choices.join(", ")}`);
    }
    return raw as T;
  }

  /** A comma-separated list of status names (any case). */
  statuses(name: string): number[] | undefined {
    const raw = this.string(name, 200);
    if (raw === undefined) return undefined;
    return raw.split(",").map((part) => {
      const key = part.trim().toUpperCase();
      const value = STATUS_BY_NAME.get(key);
      if (value === undefined) {
        throw badRequest(
          `${name}: "${part.trim()}" is not a status; use ${[...STATUS_BY_NAME.keys()].join(", ")}`,
        );
      }
      return value;
    });
  }

  /** An instance id parameter, checked as the gRPC API checks ids. */
  instanceId(name: string): string | undefined {
    const raw = this.params.get(name) ?? undefined;
    if (raw === undefined || raw === "") return undefined;
    return checkInstanceId(raw, name);
  }

  /** The task hub, `default` unless `taskhub` names another. */
  taskHub(): string {
    return taskHubName(this.params.get("taskhub"));
  }
}

/** A task hub name from a query or form; `default` when absent. */
export function taskHubName(raw: string | null | undefined): string {
  const name = raw || "default";
  if (!isTaskHubName(name)) {
    throw badRequest(
      `taskhub "${name}" is not a valid task hub name (letters, digits, _ and -, up to 64)`,
    );
  }
  return name;
}

/** Checks an instance id, answering 400 rather than a gRPC error. */
export function checkInstanceId(value: string, field = "instance id"): string {
  try {
    return requireInstanceId(value, field);
  } catch (err) {
    throw badRequest(err instanceof Error ? err.message : String(err));
  }
}

/** An optional string field of a JSON body. */
export function optionalString(
  body: Record<string, unknown>,
  field: string,
  maxLength = 4096,
): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    throw badRequest(`${field} must be a string (got ${typeof v})`);
  }
  if (v.length > maxLength) {
    throw badRequest(
      `${field} is ${v.length} characters; the limit is ${maxLength}`,
    );
  }
  return v;
}

/** An optional boolean field of a JSON body. */
export function optionalBool(
  body: Record<string, unknown>,
  field: string,
): boolean {
  const v = body[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") {
    throw badRequest(`${field} must be true or false (got ${typeof v})`);
  }
  return v;
}

/** Refuses body fields a route does not know. */
export function onlyFields(
  body: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(body)) {
    if (!known.includes(key)) {
      throw badRequest(
        `unknown field "${key}"; this action takes ${known.length ? known.join(", ") : "no fields"}`,
      );
    }
  }
}

/** Paging cursors: opaque base64url JSON the API hands out. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/** Decodes a cursor, checked by `valid`; 400 when it is not one of ours. */
export function decodeCursor<T>(raw: string, valid: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error("not base64url");
    value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  if (!valid(value)) throw badRequest("cursor is not one this API issued");
  return value;
}
