/**
 * The JSON shapes the API answers with for instances. Payloads (input,
 * output, custom status) are passed on as the strings the SDK stored;
 * times are ISO 8601.
 */
import type { InstanceRecord } from "../store/store.js";
import { pb, type TaskFailureDetails } from "../protocol.js";
import { STATUS_NAMES } from "./params.js";

/** An instance in a list. */
export interface InstanceSummary {
  instanceId: string;
  name: string;
  version: string | null;
  /** e.g. `RUNNING`. */
  status: string;
  executionId: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  scheduledStartAt: string | null;
  parentInstanceId: string | null;
  /** The custom status as set by the orchestration (a JSON string). */
  customStatus: string | null;
}

/** A failure as the API shows it. */
export interface FailureView {
  errorType: string;
  errorMessage: string;
  stackTrace: string | null;
  nonRetriable: boolean;
  innerFailure: FailureView | null;
}

/** One instance with everything the store knows about it. */
export interface InstanceDetail extends InstanceSummary {
  input: string | null;
  output: string | null;
  failure: FailureView | null;
  tags: Record<string, string> | null;
}

/** A status value's name, e.g. `RUNNING`. */
export function statusText(status: number): string {
  return STATUS_NAMES.get(status) ?? `UNKNOWN(${status})`;
}

/** ISO 8601 of epoch milliseconds, or null. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The list form of an instance. */
export function summary(r: InstanceRecord): InstanceSummary {
  return {
    instanceId: r.instanceId,
    name: r.name,
    version: r.version,
    status: statusText(r.status),
    executionId: r.executionId,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    completedAt: iso(r.completedAt),
    scheduledStartAt: iso(r.scheduledStartAt),
    parentInstanceId: r.parentInstanceId,
    customStatus: r.customStatus,
  };
}

/** The full form of an instance. */
export function detail(r: InstanceRecord): InstanceDetail {
  return {
    ...summary(r),
    input: r.input,
    output: r.output,
    failure: r.failure
      ? failureView(pb.TaskFailureDetails.deserializeBinary(r.failure))
      : null,
    tags:
      r.tags === null ? null : (JSON.parse(r.tags) as Record<string, string>),
  };
}

/** A protocol TaskFailureDetails as plain JSON. */
export function failureView(f: TaskFailureDetails): FailureView {
  const inner = f.getInnerfailure();
  return {
    errorType: f.getErrortype(),
    errorMessage: f.getErrormessage(),
    stackTrace: f.getStacktrace()?.getValue() ?? null,
    nonRetriable: f.getIsnonretriable(),
    innerFailure: inner ? failureView(inner) : null,
  };
}

/** Parses a stored JSON payload; undefined when absent or not JSON. */
export function parsePayload(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
