/**
 * The orchestration semantics of the hub, free of I/O: turning a claimed
 * instance into an OrchestratorRequest, and an OrchestratorResponse into one
 * store commit. Both stores share this code.
 */
import { randomUUID } from "node:crypto";
import type {
  ClaimedOrchestration,
  InstanceCreation,
  InstanceRecord,
  NewActivity,
  NewMessage,
  OrchestrationCommit,
} from "./store/store.js";
import {
  EventKind,
  Status,
  StringValue,
  encodeOrchestratorRequest,
  failureDetails,
  isTerminal,
  millis,
  newEvent,
  pb,
  stringValue,
  type HistoryEvent,
  type OrchestratorAction,
  type TaskFailureDetails,
} from "./protocol.js";
import { Writer } from "./wire.js";

type OrchestratorResponse = InstanceType<typeof pb.OrchestratorResponse>;
type ExecutionStarted = InstanceType<typeof pb.ExecutionStartedEvent>;

/** An orchestration work item in flight at a worker. */
export interface InFlightOrchestration {
  claim: ClaimedOrchestration;
  /** Exactly the newEvents bytes sent, OrchestratorStarted first. */
  newEvents: Uint8Array[];
  /** Kinds of newEvents, same order. */
  newKinds: number[];
  /** Inbox rows the work item consumes (delivered and dropped). */
  consumedIds: number[];
}

/** What a claimed instance turns into. */
export type Prepared =
  | { kind: "dispatch"; request: Buffer; inFlight: InFlightOrchestration }
  | { kind: "commit"; commit: OrchestrationCommit };

/** The result of applying a worker's response. */
export interface Applied {
  commit: OrchestrationCommit;
  /** Instances to terminate with their descendants once committed. */
  recursiveTerminations: { instanceId: string; reason: string | undefined }[];
}

/**
 * Prepares a work item for a claimed instance. Messages for an older
 * execution are dropped; an instance that already ended only has its inbox
 * drained; a request over `maxBytes` fails the instance with a clear reason
 * instead of breaking the worker's stream.
 */
export function prepareOrchestration(
  claim: ClaimedOrchestration,
  now: number,
  maxBytes: number,
): Prepared {
  const { instance } = claim;
  const started = newEvent(-1, now);
  started.setOrchestratorstarted(new pb.OrchestratorStartedEvent());
  const newEvents = [started.serializeBinary()];
  const newKinds = [EventKind.ORCHESTRATORSTARTED];
  const consumedIds: number[] = [];

  // Room for events: the limit less the history and some framing. Messages
  // that do not fit stay in the inbox for the next work item.
  const framing = 1024 + instance.instanceId.length * 3;
  let room = maxBytes - framing - newEvents[0]!.length;
  for (const e of claim.history) room -= e.length + 4;
  for (const m of claim.messages) {
    const current =
      m.executionId === null || m.executionId === instance.executionId;
    if (current) {
      if (m.event.length + 4 > room && newEvents.length > 1) break;
      room -= m.event.length + 4;
      newEvents.push(m.event);
      newKinds.push(m.kind);
    }
    consumedIds.push(m.id);
  }
  if (isTerminal(instance.status) || newEvents.length === 1) {
    return { kind: "commit", commit: drainCommit(claim, consumedIds, now) };
  }
  if (room < 0) {
    const reason = `the work item for instance "${instance.instanceId}" would be ${maxBytes - room} bytes (${claim.history.length} history events), over the ${maxBytes}-byte gRPC message limit; split the work with sub-orchestrations or continue-as-new`;
    const failure = failureDetails("HistoryTooLarge", reason);
    return {
      kind: "commit",
      commit: endInstanceCommit(claim, Status.FAILED, { now, failure }),
    };
  }
  const request = encodeOrchestratorRequest(
    instance.instanceId,
    instance.executionId,
    claim.history,
    newEvents,
  );
  return {
    kind: "dispatch",
    request,
    inFlight: { claim, newEvents, newKinds, consumedIds },
  };
}

/** A commit that only consumes messages, changing nothing else. */
function drainCommit(
  claim: ClaimedOrchestration,
  consumedIds: number[],
  now: number,
): OrchestrationCommit {
  return {
    ...emptyCommit(claim.instance.instanceId, claim.lockToken, now),
    consumedMessageIds: consumedIds,
    historyStart: claim.history.length,
  };
}

function emptyCommit(
  instanceId: string,
  lockToken: string | null,
  now: number,
): OrchestrationCommit {
  return {
    instanceId,
    lockToken,
    consumedMessageIds: [],
    resetHistory: false,
    historyStart: 0,
    appendHistory: [],
    update: { updatedAt: now },
    activities: [],
    messages: [],
    creations: [],
  };
}

/**
 * Ends an instance without running it (terminating a pending instance, or
 * failing one whose history outgrew the message limit), telling its parent.
 */
export function endInstanceCommit(
  claim: Pick<ClaimedOrchestration, "instance" | "history" | "lockToken"> & {
    messages: { id: number; kind: number; event: Uint8Array }[];
  },
  status: number,
  opts: { now: number; output?: string; failure?: TaskFailureDetails },
): OrchestrationCommit {
  const { instance, now } = { instance: claim.instance, now: opts.now };
  const commit = emptyCommit(instance.instanceId, claim.lockToken, now);
  commit.consumedMessageIds = claim.messages.map((m) => m.id);
  commit.historyStart = claim.history.length;
  const completed = newEvent(-1, now);
  const body = new pb.ExecutionCompletedEvent();
  body.setOrchestrationstatus(status);
  if (opts.output !== undefined) body.setResult(stringValue(opts.output));
  if (opts.failure) body.setFailuredetails(opts.failure);
  completed.setExecutioncompleted(body);
  commit.appendHistory.push(completed.serializeBinary());
  commit.update = {
    updatedAt: now,
    status,
    output: opts.output ?? null,
    failure: opts.failure?.serializeBinary() ?? null,
    completedAt: now,
  };
  const started = findExecutionStarted(claim.history, claim.messages);
  const notice = started && parentNotice(instance, started, status, opts, now);
  if (notice) commit.messages.push(notice);
  return commit;
}

/** Applies a worker's OrchestratorResponse to the work item it answers. */
export function applyOrchestratorResponse(
  w: InFlightOrchestration,
  res: OrchestratorResponse,
  now: number,
): Applied {
  const { instance } = w.claim;
  const commit = emptyCommit(instance.instanceId, w.claim.lockToken, now);
  commit.consumedMessageIds = w.consumedIds;
  commit.historyStart = w.claim.history.length;
  commit.appendHistory.push(...w.newEvents);
  const applied: Applied = { commit, recursiveTerminations: [] };

  let status = runningStatusAfter(instance.status, w.newKinds);
  commit.update.status = status;
  if (res.hasCustomstatus()) {
    commit.update.customStatus = res.getCustomstatus()?.getValue() ?? null;
  }
  for (const action of res.getActionsList()) {
    status = applyAction(w, action, applied, now) ?? status;
  }
  return applied;
}

/** RUNNING or SUSPENDED, from the last suspend or resume event delivered. */
function runningStatusAfter(current: number, kinds: number[]): number {
  let status = current === Status.PENDING ? Status.RUNNING : current;
  for (const kind of kinds) {
    if (kind === EventKind.EXECUTIONSUSPENDED) {
      status = Status.SUSPENDED;
    } else if (kind === EventKind.EXECUTIONRESUMED) {
      status = Status.RUNNING;
    }
  }
  return status;
}

/** Applies one action; returns the instance's new status if it changed. */
function applyAction(
  w: InFlightOrchestration,
  action: OrchestratorAction,
  applied: Applied,
  now: number,
): number | undefined {
  const { instance } = w.claim;
  const { commit } = applied;
  const id = action.getId();
  const Case = pb.OrchestratorAction.OrchestratoractiontypeCase;
  switch (action.getOrchestratoractiontypeCase()) {
    case Case.SCHEDULETASK: {
      const a = action.getScheduletask()!;
      commit.appendHistory.push(taskScheduledEvent(id, a, now));
      commit.activities.push(newActivity(instance, id, a, now));
      return undefined;
    }
    case Case.CREATETIMER: {
      const fireAt = action.getCreatetimer()!.getFireat();
      const created = newEvent(id, now);
      const body = new pb.TimerCreatedEvent();
      if (fireAt) body.setFireat(fireAt);
      created.setTimercreated(body);
      commit.appendHistory.push(created.serializeBinary());
      const fired = newEvent(-1, now);
      const firedBody = new pb.TimerFiredEvent();
      if (fireAt) firedBody.setFireat(fireAt);
      firedBody.setTimerid(id);
      fired.setTimerfired(firedBody);
      commit.messages.push({
        instanceId: instance.instanceId,
        executionId: instance.executionId,
        kind: EventKind.TIMERFIRED,
        event: fired.serializeBinary(),
        visibleAt: millis(fireAt) ?? now,
      });
      return undefined;
    }
    case Case.CREATESUBORCHESTRATION: {
      const a = action.getCreatesuborchestration()!;
      const { event, creation } = subOrchestration(w, id, a, now);
      commit.appendHistory.push(event);
      commit.creations.push(creation);
      return undefined;
    }
    case Case.SENDEVENT: {
      const a = action.getSendevent()!;
      const target = a.getInstance()?.getInstanceid() ?? "";
      const sent = newEvent(id, now);
      const body = new pb.EventSentEvent();
      body.setInstanceid(target);
      body.setName(a.getName());
      const data = a.getData();
      if (data) body.setInput(data);
      sent.setEventsent(body);
      commit.appendHistory.push(sent.serializeBinary());
      commit.messages.push(eventRaised(target, a.getName(), data, now));
      return undefined;
    }
    case Case.TERMINATEORCHESTRATION: {
      const a = action.getTerminateorchestration()!;
      const reason = a.getReason()?.getValue();
      commit.messages.push(
        terminationMessage(a.getInstanceid(), reason, a.getRecurse(), now),
      );
      if (a.getRecurse()) {
        applied.recursiveTerminations.push({
          instanceId: a.getInstanceid(),
          reason,
        });
      }
      return undefined;
    }
    case Case.COMPLETEORCHESTRATION:
      return completeOrchestration(
        w,
        action.getCompleteorchestration()!,
        commit,
        now,
      );
    default:
      // Entity and rewind actions are not supported; the RPCs that would
      // lead to them answer UNIMPLEMENTED, so a worker never sends them here.
      return undefined;
  }
}

type ScheduleTask = InstanceType<typeof pb.ScheduleTaskAction>;

// A fan-out brings thousands of scheduleTask actions in one response, so
// their event and request bytes are written directly (field numbers of
// HistoryEvent, TaskScheduledEvent, ActivityRequest, OrchestrationInstance).

function taskScheduledEvent(id: number, a: ScheduleTask, now: number): Buffer {
  const trace = a.getParenttracecontext();
  return new Writer(128)
    .int(1, id)
    .timestamp(2, now)
    .message(6, (w) => {
      w.string(1, a.getName())
        .stringValue(2, a.getVersion()?.getValue())
        .stringValue(3, a.getInput()?.getValue());
      if (trace) w.bytes(4, trace.serializeBinary());
      w.map(5, a.getTagsMap().getEntryList());
    })
    .finish();
}

function newActivity(
  instance: InstanceRecord,
  taskId: number,
  a: ScheduleTask,
  now: number,
): NewActivity {
  const trace = a.getParenttracecontext();
  const w = new Writer(192)
    .string(1, a.getName())
    .stringValue(2, a.getVersion()?.getValue())
    .stringValue(3, a.getInput()?.getValue())
    .message(4, (o) =>
      o.string(1, instance.instanceId).stringValue(2, instance.executionId),
    )
    .int(5, taskId);
  if (trace) w.bytes(6, trace.serializeBinary());
  w.map(7, a.getTagsMap().getEntryList());
  return {
    instanceId: instance.instanceId,
    executionId: instance.executionId,
    taskId,
    name: a.getName(),
    request: w.finish(),
    visibleAt: now,
  };
}

function subOrchestration(
  w: InFlightOrchestration,
  id: number,
  a: InstanceType<typeof pb.CreateSubOrchestrationAction>,
  now: number,
): { event: Uint8Array; creation: InstanceCreation } {
  const parent = w.claim.instance;
  const childId = a.getInstanceid() || `${parent.instanceId}:${id}`;
  const input = a.getInput()?.getValue() ?? null;
  const version = a.getVersion()?.getValue() ?? null;

  const created = newEvent(id, now);
  const body = new pb.SubOrchestrationInstanceCreatedEvent();
  body.setInstanceid(childId);
  body.setName(a.getName());
  if (a.getVersion()) body.setVersion(a.getVersion());
  if (a.getInput()) body.setInput(a.getInput());
  created.setSuborchestrationinstancecreated(body);

  const child: InstanceRecord = {
    ...newInstanceRecord(childId, a.getName(), input, now),
    version,
    parentInstanceId: parent.instanceId,
  };
  const parentInfo = new pb.ParentInstanceInfo();
  parentInfo.setTaskscheduledid(id);
  parentInfo.setName(stringValue(parent.name));
  parentInfo.setOrchestrationinstance(
    orchestrationInstance(parent.instanceId, parent.executionId),
  );
  const start = executionStartedMessage(child, now, parentInfo);

  const conflict = newEvent(-1, now);
  const failed = new pb.SubOrchestrationInstanceFailedEvent();
  failed.setTaskscheduledid(id);
  failed.setFailuredetails(
    failureDetails(
      "InstanceAlreadyExists",
      `cannot start sub-orchestration "${childId}": an instance with that id is already running`,
    ),
  );
  conflict.setSuborchestrationinstancefailed(failed);
  return {
    event: created.serializeBinary(),
    creation: {
      instance: child,
      start,
      onConflict: {
        instanceId: parent.instanceId,
        executionId: parent.executionId,
        kind: EventKind.SUBORCHESTRATIONINSTANCEFAILED,
        event: conflict.serializeBinary(),
        visibleAt: now,
      },
    },
  };
}

function completeOrchestration(
  w: InFlightOrchestration,
  a: InstanceType<typeof pb.CompleteOrchestrationAction>,
  commit: OrchestrationCommit,
  now: number,
): number {
  const { instance } = w.claim;
  const status = a.getOrchestrationstatus() as number;
  const started = findExecutionStarted(w.claim.history, w.claim.messages);
  if (status === Status.CONTINUED_AS_NEW) {
    return continueAsNew(w, a, commit, started, now);
  }
  const output = a.getResult()?.getValue();
  const failure = a.getFailuredetails();
  const completed = newEvent(-1, now);
  const body = new pb.ExecutionCompletedEvent();
  body.setOrchestrationstatus(status);
  if (a.getResult()) body.setResult(a.getResult());
  if (failure) body.setFailuredetails(failure);
  completed.setExecutioncompleted(body);
  commit.appendHistory.push(completed.serializeBinary());
  Object.assign(commit.update, {
    status,
    output: output ?? null,
    failure: failure?.serializeBinary() ?? null,
    completedAt: now,
  });
  const notice =
    started &&
    parentNotice(instance, started, status, { output, failure }, now);
  if (notice) commit.messages.push(notice);
  return status;
}

function continueAsNew(
  w: InFlightOrchestration,
  a: InstanceType<typeof pb.CompleteOrchestrationAction>,
  commit: OrchestrationCommit,
  started: ExecutionStarted | undefined,
  now: number,
): number {
  const { instance } = w.claim;
  const executionId = randomUUID();
  const input = a.getResult()?.getValue() ?? null;
  // Nothing of the old execution is kept: its history, the events this work
  // item brought, and (by execution id) its pending timers and results.
  commit.resetHistory = true;
  commit.historyStart = 0;
  commit.appendHistory = [];
  commit.activities = [];
  Object.assign(commit.update, {
    status: Status.RUNNING,
    executionId,
    input,
    output: null,
    failure: null,
    completedAt: null,
  });
  const next: InstanceRecord = {
    ...instance,
    executionId,
    input,
    version: a.getNewversion()?.getValue() ?? instance.version,
  };
  commit.messages.push(
    executionStartedMessage(next, now, started?.getParentinstance()),
  );
  for (const carried of a.getCarryovereventsList()) {
    commit.messages.push({
      instanceId: instance.instanceId,
      executionId,
      kind: carried.getEventtypeCase(),
      event: carried.serializeBinary(),
      visibleAt: now,
    });
  }
  return Status.RUNNING;
}

/** The message a finished sub-orchestration sends its parent, if any. */
function parentNotice(
  instance: InstanceRecord,
  started: ExecutionStarted,
  status: number,
  result: {
    output?: string | undefined;
    failure?: TaskFailureDetails | undefined;
  },
  now: number,
): NewMessage | undefined {
  const parent = started.getParentinstance();
  const parentInstance = parent?.getOrchestrationinstance();
  if (!parent || !parentInstance) return undefined;
  const e = newEvent(-1, now);
  let kind: number;
  if (status === Status.COMPLETED) {
    const body = new pb.SubOrchestrationInstanceCompletedEvent();
    body.setTaskscheduledid(parent.getTaskscheduledid());
    if (result.output !== undefined) body.setResult(stringValue(result.output));
    e.setSuborchestrationinstancecompleted(body);
    kind = EventKind.SUBORCHESTRATIONINSTANCECOMPLETED;
  } else {
    const body = new pb.SubOrchestrationInstanceFailedEvent();
    body.setTaskscheduledid(parent.getTaskscheduledid());
    body.setFailuredetails(
      result.failure ??
        failureDetails(
          "TerminatedError",
          `sub-orchestration "${instance.instanceId}" was terminated`,
        ),
    );
    e.setSuborchestrationinstancefailed(body);
    kind = EventKind.SUBORCHESTRATIONINSTANCEFAILED;
  }
  return {
    instanceId: parentInstance.getInstanceid(),
    executionId: parentInstance.getExecutionid()?.getValue() ?? null,
    kind,
    event: e.serializeBinary(),
    visibleAt: now,
  };
}

/** The ExecutionStarted event of the current execution, if seen. */
export function findExecutionStarted(
  history: readonly Uint8Array[],
  messages: readonly { kind: number; event: Uint8Array }[],
): ExecutionStarted | undefined {
  // History opens with OrchestratorStarted, then ExecutionStarted.
  for (const bytes of history.slice(0, 2)) {
    const e = pb.HistoryEvent.deserializeBinary(bytes);
    if (e.hasExecutionstarted()) return e.getExecutionstarted();
  }
  const m = messages.find((x) => x.kind === EventKind.EXECUTIONSTARTED);
  return m
    ? pb.HistoryEvent.deserializeBinary(m.event).getExecutionstarted()
    : undefined;
}

/** A fresh PENDING instance record. */
export function newInstanceRecord(
  instanceId: string,
  name: string,
  input: string | null,
  now: number,
): InstanceRecord {
  return {
    instanceId,
    name,
    version: null,
    status: Status.PENDING,
    executionId: randomUUID(),
    input,
    output: null,
    customStatus: null,
    failure: null,
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    scheduledStartAt: null,
    parentInstanceId: null,
    tags: null,
  };
}

function orchestrationInstance(
  instanceId: string,
  executionId: string,
): InstanceType<typeof pb.OrchestrationInstance> {
  const o = new pb.OrchestrationInstance();
  o.setInstanceid(instanceId);
  o.setExecutionid(stringValue(executionId));
  return o;
}

/** The ExecutionStarted inbox message that starts an execution. */
export function executionStartedMessage(
  instance: InstanceRecord,
  now: number,
  parent?: InstanceType<typeof pb.ParentInstanceInfo>,
): NewMessage {
  const e = newEvent(-1, now);
  const body = new pb.ExecutionStartedEvent();
  body.setName(instance.name);
  if (instance.version !== null) body.setVersion(stringValue(instance.version));
  if (instance.input !== null) body.setInput(stringValue(instance.input));
  body.setOrchestrationinstance(
    orchestrationInstance(instance.instanceId, instance.executionId),
  );
  if (parent) body.setParentinstance(parent);
  if (instance.scheduledStartAt !== null) {
    const t = newEvent(-1, instance.scheduledStartAt).getTimestamp();
    if (t) body.setScheduledstarttimestamp(t);
  }
  if (instance.tags !== null) {
    const tags = JSON.parse(instance.tags) as Record<string, string>;
    for (const [k, v] of Object.entries(tags)) body.getTagsMap().set(k, v);
  }
  e.setExecutionstarted(body);
  return {
    instanceId: instance.instanceId,
    executionId: instance.executionId,
    kind: EventKind.EXECUTIONSTARTED,
    event: e.serializeBinary(),
    visibleAt: Math.max(now, instance.scheduledStartAt ?? 0),
  };
}

/** An EventRaised message for an instance's current or next execution. */
export function eventRaised(
  instanceId: string,
  name: string,
  input: InstanceType<typeof StringValue> | undefined,
  now: number,
  visibleAt = now,
): NewMessage {
  const e = newEvent(-1, now);
  const body = new pb.EventRaisedEvent();
  body.setName(name);
  if (input) body.setInput(input);
  e.setEventraised(body);
  return {
    instanceId,
    executionId: null,
    kind: EventKind.EVENTRAISED,
    event: e.serializeBinary(),
    visibleAt,
  };
}

/** An ExecutionTerminated message. */
export function terminationMessage(
  instanceId: string,
  reason: string | undefined,
  recurse: boolean,
  now: number,
): NewMessage {
  const e = newEvent(-1, now);
  const body = new pb.ExecutionTerminatedEvent();
  if (reason !== undefined) body.setInput(stringValue(reason));
  body.setRecurse(recurse);
  e.setExecutionterminated(body);
  return {
    instanceId,
    executionId: null,
    kind: EventKind.EXECUTIONTERMINATED,
    event: e.serializeBinary(),
    visibleAt: now,
  };
}

/** An ExecutionSuspended or ExecutionResumed message. */
export function suspendResumeMessage(
  instanceId: string,
  suspend: boolean,
  reason: string | undefined,
  now: number,
  visibleAt = now,
): NewMessage {
  const e: HistoryEvent = newEvent(-1, now);
  const body = suspend
    ? new pb.ExecutionSuspendedEvent()
    : new pb.ExecutionResumedEvent();
  if (reason !== undefined) body.setInput(stringValue(reason));
  if (suspend) e.setExecutionsuspended(body);
  else e.setExecutionresumed(body);
  return {
    instanceId,
    executionId: null,
    kind: suspend ? EventKind.EXECUTIONSUSPENDED : EventKind.EXECUTIONRESUMED,
    event: e.serializeBinary(),
    visibleAt,
  };
}
