/**
 * History events as the dashboard shows them: stored protobuf bytes turned
 * into plain JSON, and the timeline that pairs each scheduled activity,
 * timer and sub-orchestration with the event that ended it.
 */
import { EventKind, millis, pb, type HistoryEvent } from "../protocol.js";
import { failureView, statusText, type FailureView } from "./views.js";

/** One history event as JSON; fields beyond the first three by type. */
export interface EventView {
  eventId: number;
  /** e.g. `TaskScheduled`. */
  type: string;
  timestamp: string | null;
  name?: string;
  input?: string | null;
  result?: string | null;
  failure?: FailureView | null;
  /** The TaskScheduled / SubOrchestrationInstanceCreated this answers. */
  taskScheduledId?: number;
  timerId?: number;
  fireAt?: string | null;
  instanceId?: string;
  status?: string;
  reason?: string | null;
}

/** What one timeline bar stands for. */
export type BarKind = "activity" | "timer" | "suborchestration";

/** A bar of the timeline: when something started and (if) it ended. */
export interface Bar {
  kind: BarKind;
  /** The eventId of the event that started it. */
  id: number;
  name: string;
  start: number;
  end: number | null;
  outcome: "completed" | "failed" | "pending";
}

// Event type names by oneof case, from the generated enum's keys.
const TYPE_NAMES = new Map<number, string>(
  Object.entries(EventKind).map(([key, value]) => [value, typeName(key)]),
);

function typeName(key: string): string {
  const words: Record<string, string> = {
    EXECUTIONSTARTED: "ExecutionStarted",
    EXECUTIONCOMPLETED: "ExecutionCompleted",
    EXECUTIONTERMINATED: "ExecutionTerminated",
    EXECUTIONSUSPENDED: "ExecutionSuspended",
    EXECUTIONRESUMED: "ExecutionResumed",
    EXECUTIONREWOUND: "ExecutionRewound",
    TASKSCHEDULED: "TaskScheduled",
    TASKCOMPLETED: "TaskCompleted",
    TASKFAILED: "TaskFailed",
    SUBORCHESTRATIONINSTANCECREATED: "SubOrchestrationInstanceCreated",
    SUBORCHESTRATIONINSTANCECOMPLETED: "SubOrchestrationInstanceCompleted",
    SUBORCHESTRATIONINSTANCEFAILED: "SubOrchestrationInstanceFailed",
    TIMERCREATED: "TimerCreated",
    TIMERFIRED: "TimerFired",
    ORCHESTRATORSTARTED: "OrchestratorStarted",
    ORCHESTRATORCOMPLETED: "OrchestratorCompleted",
    EVENTSENT: "EventSent",
    EVENTRAISED: "EventRaised",
    GENERICEVENT: "GenericEvent",
    HISTORYSTATE: "HistoryState",
    CONTINUEASNEW: "ContinueAsNew",
  };
  return words[key] ?? key;
}

const value = (v: { getValue(): string } | undefined): string | null =>
  v?.getValue() ?? null;

/** Decodes stored history bytes into their JSON form. */
export function eventView(bytes: Uint8Array): EventView {
  const e = pb.HistoryEvent.deserializeBinary(bytes);
  const kind = e.getEventtypeCase() as number;
  const ts = millis(e.getTimestamp());
  const view: EventView = {
    eventId: e.getEventid(),
    type: TYPE_NAMES.get(kind) ?? `Unknown(${kind})`,
    timestamp: ts === undefined ? null : new Date(ts).toISOString(),
  };
  return Object.assign(view, details(e, kind));
}

/** The type-specific fields of an event. */
function details(e: HistoryEvent, kind: number): Partial<EventView> {
  const K = EventKind;
  const failure = (f: Parameters<typeof failureView>[0] | undefined) =>
    f ? failureView(f) : null;
  switch (kind) {
    case K.EXECUTIONSTARTED: {
      const b = e.getExecutionstarted()!;
      return { name: b.getName(), input: value(b.getInput()) };
    }
    case K.EXECUTIONCOMPLETED: {
      const b = e.getExecutioncompleted()!;
      return {
        status: statusText(b.getOrchestrationstatus()),
        result: value(b.getResult()),
        failure: failure(b.getFailuredetails()),
      };
    }
    case K.EXECUTIONTERMINATED:
      return { reason: value(e.getExecutionterminated()!.getInput()) };
    case K.EXECUTIONSUSPENDED:
      return { reason: value(e.getExecutionsuspended()!.getInput()) };
    case K.EXECUTIONRESUMED:
      return { reason: value(e.getExecutionresumed()!.getInput()) };
    case K.TASKSCHEDULED: {
      const b = e.getTaskscheduled()!;
      return { name: b.getName(), input: value(b.getInput()) };
    }
    case K.TASKCOMPLETED: {
      const b = e.getTaskcompleted()!;
      return {
        taskScheduledId: b.getTaskscheduledid(),
        result: value(b.getResult()),
      };
    }
    case K.TASKFAILED: {
      const b = e.getTaskfailed()!;
      return {
        taskScheduledId: b.getTaskscheduledid(),
        failure: failure(b.getFailuredetails()),
      };
    }
    case K.SUBORCHESTRATIONINSTANCECREATED: {
      const b = e.getSuborchestrationinstancecreated()!;
      return {
        name: b.getName(),
        instanceId: b.getInstanceid(),
        input: value(b.getInput()),
      };
    }
    case K.SUBORCHESTRATIONINSTANCECOMPLETED: {
      const b = e.getSuborchestrationinstancecompleted()!;
      return {
        taskScheduledId: b.getTaskscheduledid(),
        result: value(b.getResult()),
      };
    }
    case K.SUBORCHESTRATIONINSTANCEFAILED: {
      const b = e.getSuborchestrationinstancefailed()!;
      return {
        taskScheduledId: b.getTaskscheduledid(),
        failure: failure(b.getFailuredetails()),
      };
    }
    case K.TIMERCREATED: {
      const at = millis(e.getTimercreated()!.getFireat());
      return { fireAt: at === undefined ? null : new Date(at).toISOString() };
    }
    case K.TIMERFIRED: {
      const b = e.getTimerfired()!;
      const at = millis(b.getFireat());
      return {
        timerId: b.getTimerid(),
        fireAt: at === undefined ? null : new Date(at).toISOString(),
      };
    }
    case K.EVENTSENT: {
      const b = e.getEventsent()!;
      return {
        name: b.getName(),
        instanceId: b.getInstanceid(),
        input: value(b.getInput()),
      };
    }
    case K.EVENTRAISED: {
      const b = e.getEventraised()!;
      return { name: b.getName(), input: value(b.getInput()) };
    }
    case K.CONTINUEASNEW:
      return { input: value(e.getContinueasnew()!.getInput()) };
    default:
      return {};
  }
}

/**
 * The bars of a history: each activity, timer and sub-orchestration from
 * the event that started it to the one that ended it (end null while it
 * runs), in the order they started.
 */
export function timelineBars(history: readonly Uint8Array[]): Bar[] {
  const K = EventKind;
  const started = new Map<string, Bar>();
  const bars: Bar[] = [];
  const open = (kind: BarKind, id: number, name: string, at: number) => {
    const bar: Bar = {
      kind,
      id,
      name,
      start: at,
      end: null,
      outcome: "pending",
    };
    started.set(`${kind}:${id}`, bar);
    bars.push(bar);
  };
  const close = (kind: BarKind, id: number, at: number, ok: boolean) => {
    const bar = started.get(`${kind}:${id}`);
    if (!bar) return;
    bar.end = at;
    bar.outcome = ok ? "completed" : "failed";
  };
  for (const bytes of history) {
    const e = pb.HistoryEvent.deserializeBinary(bytes);
    const at = millis(e.getTimestamp()) ?? 0;
    const id = e.getEventid();
    switch (e.getEventtypeCase() as number) {
      case K.TASKSCHEDULED:
        open("activity", id, e.getTaskscheduled()!.getName(), at);
        break;
      case K.TASKCOMPLETED:
        close("activity", e.getTaskcompleted()!.getTaskscheduledid(), at, true);
        break;
      case K.TASKFAILED:
        close("activity", e.getTaskfailed()!.getTaskscheduledid(), at, false);
        break;
      case K.TIMERCREATED:
        open("timer", id, "timer", at);
        break;
      case K.TIMERFIRED:
        close("timer", e.getTimerfired()!.getTimerid(), at, true);
        break;
      case K.SUBORCHESTRATIONINSTANCECREATED: {
        const b = e.getSuborchestrationinstancecreated()!;
        open("suborchestration", id, `${b.getName()} ${b.getInstanceid()}`, at);
        break;
      }
      case K.SUBORCHESTRATIONINSTANCECOMPLETED: {
        const b = e.getSuborchestrationinstancecompleted()!;
        close("suborchestration", b.getTaskscheduledid(), at, true);
        break;
      }
      case K.SUBORCHESTRATIONINSTANCEFAILED: {
        const b = e.getSuborchestrationinstancefailed()!;
        close("suborchestration", b.getTaskscheduledid(), at, false);
        break;
      }
    }
  }
  return bars;
}
