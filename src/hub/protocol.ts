/**
 * The Durable Task sidecar protocol as the hub speaks it: the generated
 * protobuf classes that ship inside @microsoft/durabletask-js, small builders
 * for the messages the hub creates, and a hand-written encoder for the one hot
 * message (WorkItem) so stored history bytes go on the wire without being
 * decoded and encoded again.
 */
import { createRequire } from "node:module";
import { Writer } from "./wire.js";

const require = createRequire(import.meta.url);

/** Generated message classes (google-protobuf, CommonJS). */
export const pb =
  require("@microsoft/durabletask-js/dist/proto/orchestrator_service_pb.js") as typeof import("@microsoft/durabletask-js/dist/proto/orchestrator_service_pb.js");

/** Generated gRPC service definition of TaskHubSidecarService. */
export const grpcPb =
  require("@microsoft/durabletask-js/dist/proto/orchestrator_service_grpc_pb.js") as typeof import("@microsoft/durabletask-js/dist/proto/orchestrator_service_grpc_pb.js");

const wrappers =
  require("google-protobuf/google/protobuf/wrappers_pb.js") as typeof import("google-protobuf/google/protobuf/wrappers_pb.js");
const timestamps =
  require("google-protobuf/google/protobuf/timestamp_pb.js") as typeof import("google-protobuf/google/protobuf/timestamp_pb.js");

/** google.protobuf.Empty. */
export const Empty = (
  require("google-protobuf/google/protobuf/empty_pb.js") as typeof import("google-protobuf/google/protobuf/empty_pb.js")
).Empty;
/** google.protobuf.StringValue. */
export const StringValue = wrappers.StringValue;
/** google.protobuf.Timestamp. */
export const Timestamp = timestamps.Timestamp;

/** Type aliases for the generated classes used across the hub. */
export type HistoryEvent = InstanceType<typeof pb.HistoryEvent>;
export type OrchestratorAction = InstanceType<typeof pb.OrchestratorAction>;
export type TaskFailureDetails = InstanceType<typeof pb.TaskFailureDetails>;
export type OrchestrationStateMessage = InstanceType<
  typeof pb.OrchestrationState
>;

/** Runtime status values, numerically identical to the protocol enum. */
export const Status = {
  RUNNING: 0,
  COMPLETED: 1,
  CONTINUED_AS_NEW: 2,
  FAILED: 3,
  CANCELED: 4,
  TERMINATED: 5,
  PENDING: 6,
  SUSPENDED: 7,
} as const;

/** The history event kinds (the HistoryEvent oneof case numbers). */
export const EventKind: Readonly<
  Record<keyof typeof pb.HistoryEvent.EventtypeCase, number>
> = pb.HistoryEvent.EventtypeCase;

/** Statuses from which an instance never moves again. */
export function isTerminal(status: number): boolean {
  return (
    status === Status.COMPLETED ||
    status === Status.FAILED ||
    status === Status.TERMINATED ||
    status === Status.CANCELED
  );
}

/** Human-readable name of a status, e.g. `RUNNING`. */
export function statusName(status: number): string {
  const found = Object.entries(Status).find(([, v]) => v === status);
  return found ? found[0] : `UNKNOWN(${status})`;
}

/** Wraps a string in a StringValue. */
export function stringValue(value: string): InstanceType<typeof StringValue> {
  const v = new StringValue();
  v.setValue(value);
  return v;
}

/** A Timestamp for a time in epoch milliseconds. */
export function timestamp(ms: number): InstanceType<typeof Timestamp> {
  const t = new Timestamp();
  t.setSeconds(Math.floor(ms / 1000));
  t.setNanos((ms % 1000) * 1_000_000);
  return t;
}

/** Epoch milliseconds of a Timestamp, or undefined when absent. */
export function millis(
  t: InstanceType<typeof Timestamp> | undefined,
): number | undefined {
  if (!t) return undefined;
  return t.getSeconds() * 1000 + Math.floor(t.getNanos() / 1_000_000);
}

/** A new history event with its id and time set; the caller sets the body. */
export function newEvent(eventId: number, nowMs: number): HistoryEvent {
  const e = new pb.HistoryEvent();
  e.setEventid(eventId);
  e.setTimestamp(timestamp(nowMs));
  return e;
}

/** Serialized TaskFailureDetails with a type and a message. */
export function failureDetails(
  errorType: string,
  message: string,
): TaskFailureDetails {
  const f = new pb.TaskFailureDetails();
  f.setErrortype(errorType);
  f.setErrormessage(message);
  return f;
}

// WorkItem and OrchestratorRequest are encoded by hand so stored history
// bytes go on the wire as they are. WorkItem.orchestratorRequest = 1,
// activityRequest = 2, healthPing = 4, completionToken = 10;
// OrchestratorRequest.instanceId = 1, executionId = 2, pastEvents = 3,
// newEvents = 4.

/** Encodes an OrchestratorRequest from stored event bytes. */
export function encodeOrchestratorRequest(
  instanceId: string,
  executionId: string,
  pastEvents: readonly Uint8Array[],
  newEvents: readonly Uint8Array[],
): Buffer {
  let size = 64 + instanceId.length * 3 + executionId.length;
  for (const e of pastEvents) size += e.length + 4;
  for (const e of newEvents) size += e.length + 4;
  const w = new Writer(size).string(1, instanceId).stringValue(2, executionId);
  for (const e of pastEvents) w.bytes(3, e);
  for (const e of newEvents) w.bytes(4, e);
  return w.finish();
}

/** Encodes a WorkItem carrying an OrchestratorRequest. */
export function encodeOrchestratorWorkItem(
  request: Uint8Array,
  completionToken: string,
): Buffer {
  return new Writer(request.length + 64)
    .bytes(1, request)
    .string(10, completionToken)
    .finish();
}

/** Encodes a WorkItem carrying a serialized ActivityRequest. */
export function encodeActivityWorkItem(
  request: Uint8Array,
  completionToken: string,
): Buffer {
  return new Writer(request.length + 64)
    .bytes(2, request)
    .string(10, completionToken)
    .finish();
}

/** A WorkItem with an empty HealthPing. */
export const HEALTH_PING_WORK_ITEM: Buffer = new Writer(8)
  .bytes(4, new Uint8Array(0))
  .finish();

/** HistoryChunk { repeated HistoryEvent events = 1; } from stored bytes. */
export function encodeHistoryChunk(events: readonly Uint8Array[]): Buffer {
  const w = new Writer();
  for (const e of events) w.bytes(1, e);
  return w.finish();
}
