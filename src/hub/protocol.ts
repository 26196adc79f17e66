/**
 * The Durable Task sidecar protocol as the hub speaks it: the generated
 * protobuf classes that ship inside @microsoft/durabletask-js, small builders
 * for the messages the hub creates, and a hand-written encoder for the one hot
 * message (WorkItem) so stored history bytes go on the wire without being
 * decoded and encoded again.
 */
import { createRequire } from "node:module";

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

// Hand-written protobuf encoding for WorkItem. Field numbers are those of
// orchestrator_service.proto: WorkItem.orchestratorRequest = 1,
// activityRequest = 2, healthPing = 4, completionToken = 10;
// OrchestratorRequest.instanceId = 1, executionId = 2, pastEvents = 3,
// newEvents = 4; StringValue.value = 1.

const LEN = 2;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function key(field: number): Buffer {
  return varint((field << 3) | LEN);
}

function lenField(field: number, body: Uint8Array): Buffer[] {
  return [
    key(field),
    varint(body.length),
    Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  ];
}

function stringField(field: number, value: string): Buffer[] {
  return lenField(field, Buffer.from(value, "utf8"));
}

/** Encodes an OrchestratorRequest from stored event bytes. */
export function encodeOrchestratorRequest(
  instanceId: string,
  executionId: string,
  pastEvents: readonly Uint8Array[],
  newEvents: readonly Uint8Array[],
): Buffer {
  const parts: Buffer[] = [
    ...stringField(1, instanceId),
    ...lenField(2, Buffer.concat(stringField(1, executionId))),
  ];
  for (const e of pastEvents) parts.push(...lenField(3, e));
  for (const e of newEvents) parts.push(...lenField(4, e));
  return Buffer.concat(parts);
}

/** Encodes a WorkItem carrying an OrchestratorRequest. */
export function encodeOrchestratorWorkItem(
  request: Buffer,
  completionToken: string,
): Buffer {
  return Buffer.concat([
    ...lenField(1, request),
    ...stringField(10, completionToken),
  ]);
}

/** Encodes a WorkItem carrying a serialized ActivityRequest. */
export function encodeActivityWorkItem(
  request: Uint8Array,
  completionToken: string,
): Buffer {
  return Buffer.concat([
    ...lenField(2, request),
    ...stringField(10, completionToken),
  ]);
}

/** A WorkItem with an empty HealthPing. */
export const HEALTH_PING_WORK_ITEM: Buffer = Buffer.concat(
  lenField(4, new Uint8Array(0)),
);
