/**
 * The hub's storage contract. A store keeps, per task hub, four kinds of
 * rows (see ARCHITECTURE.md):
 *
 * - instance: one per orchestration instance, with its status, payloads,
 *   times and its lock (lockedBy, lockedUntil);
 * - history: the serialized history events of the current execution;
 * - inbox: serialized history events waiting for the instance's next work
 *   item, each visible from `visibleAt` (a timer is an inbox row that
 *   becomes visible later);
 * - activity: a scheduled activity, with its own lock.
 *
 * Every state change of one work item commits in one transaction. Events are
 * stored as protobuf bytes and never re-encoded by the store.
 */
import type { BatchPolicy } from "../dispatch/batching.js";

/** An orchestration instance as stored. Times are epoch milliseconds. */
export interface InstanceRecord {
  instanceId: string;
  name: string;
  version: string | null;
  /** A protocol OrchestrationStatus value. */
  status: number;
  executionId: string;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  /** Serialized TaskFailureDetails when the instance failed. */
  failure: Uint8Array | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  scheduledStartAt: number | null;
  parentInstanceId: string | null;
  /** JSON object of string tags, or null. */
  tags: string | null;
}

/** A history event on its way into an instance's inbox. */
export interface NewMessage {
  instanceId: string;
  /** The execution it belongs to; null for events that survive continue-as-new. */
  executionId: string | null;
  /** The HistoryEvent oneof case (EventKind). */
  kind: number;
  event: Uint8Array;
  visibleAt: number;
}

/** An inbox row as read back. */
export interface StoredMessage extends NewMessage {
  id: number;
}

/** An activity to schedule; `request` is a serialized ActivityRequest. */
export interface NewActivity {
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  request: Uint8Array;
  visibleAt: number;
}

/** An activity row claimed for a worker. */
export interface ClaimedActivity extends NewActivity {
  id: number;
  lockToken: string;
  /** When the row became visible before this claim (for dispatch latency). */
  readyAt: number;
}

/** An instance claimed for an orchestration work item. */
export interface ClaimedOrchestration {
  instance: InstanceRecord;
  history: Uint8Array[];
  messages: StoredMessage[];
  lockToken: string;
}

/** A sub-orchestration (or other instance) created by a commit. */
export interface InstanceCreation {
  instance: InstanceRecord;
  start: NewMessage;
  /** Delivered instead when a non-terminal instance with that id exists. */
  onConflict: NewMessage | null;
}

/** The fields of an instance a commit may change. */
export type InstanceUpdate = Partial<
  Pick<
    InstanceRecord,
    | "status"
    | "executionId"
    | "input"
    | "output"
    | "customStatus"
    | "failure"
    | "completedAt"
  >
> & { updatedAt: number };

/** Everything one orchestration work item changes, applied atomically. */
export interface OrchestrationCommit {
  instanceId: string;
  /** The lock the work item holds; null means the instance must be unlocked. */
  lockToken: string | null;
  consumedMessageIds: number[];
  /** Drop the stored history first (continue-as-new). */
  resetHistory: boolean;
  /** Sequence number of the first appended event. */
  historyStart: number;
  appendHistory: Uint8Array[];
  update: InstanceUpdate;
  activities: NewActivity[];
  messages: NewMessage[];
  creations: InstanceCreation[];
}

/** A finished activity: its row goes, its result message goes in. */
export interface ActivityCompletion {
  activityId: number;
  lockToken: string;
  message: NewMessage;
}

/** Filter for listing instances. Undefined fields do not filter. */
export interface InstanceFilter {
  statuses?: number[];
  createdFrom?: number;
  createdTo?: number;
  completedFrom?: number;
  completedTo?: number;
  instanceIdPrefix?: string;
  name?: string;
  /**
   * Only the direct children of this instance; null: only instances with
   * no parent (top-level ones).
   */
  parentInstanceId?: string | null;
  /**
   * `instanceId` (the default): ascending by id, paged with `after`.
   * `newest`: newest created first (ties by id, descending), paged with
   * `before`.
   */
  order?: "instanceId" | "newest";
  /** Return instances whose id sorts after this one (keyset paging). */
  after?: string;
  /** With order `newest`: instances that sort after this one. */
  before?: { createdAt: number; instanceId: string };
  /** False: input and output come back null, unread (lists need neither). */
  withPayloads?: boolean;
  limit: number;
}

/** What `countInstances` filters on: an InstanceFilter without paging. */
export type InstanceCountFilter = Omit<
  InstanceFilter,
  "statuses" | "order" | "after" | "before" | "withPayloads" | "limit"
>;

/** How many instances have one status. */
export interface StatusCount {
  status: number;
  count: number;
}

/** A slice of a history: `limit` events from sequence number `offset`. */
export interface HistoryRange {
  offset: number;
  limit: number;
}

/** One task hub's rows. All methods are safe to call concurrently. */
export interface TaskHubStore {
  /** The task hub name. */
  readonly name: string;
  /**
   * Creates an instance with its ExecutionStarted message. A terminal
   * instance with the same id is replaced; a live one is left alone and
   * `false` is returned.
   */
  createInstance(instance: InstanceRecord, start: NewMessage): Promise<boolean>;
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  /** The current execution's history, all of it or the `range` asked for. */
  getHistory(instanceId: string, range?: HistoryRange): Promise<Uint8Array[]>;
  /** Adds messages to existing instances; those for unknown ones are dropped. */
  enqueue(messages: NewMessage[]): Promise<void>;
  /**
   * Locks up to `limit` instances that have visible messages. With a
   * policy, instances it holds back are skipped and become ready again at
   * their hold's end or with their next message.
   */
  claimOrchestrations(
    now: number,
    lockUntil: number,
    limit: number,
    policy?: BatchPolicy,
  ): Promise<ClaimedOrchestration[]>;
  /** Locks up to `limit` visible activities. */
  claimActivities(
    now: number,
    lockUntil: number,
    limit: number,
  ): Promise<ClaimedActivity[]>;
  /** Applies a commit; false when the lock was lost (nothing changed). */
  commit(commit: OrchestrationCommit): Promise<boolean>;
  /** Applies activity completions in one transaction; per item, false when stale. */
  completeActivities(completions: ActivityCompletion[]): Promise<boolean[]>;
  /** Unlocks an instance, its messages visible again at `visibleAt`. */
  releaseOrchestration(
    instanceId: string,
    lockToken: string,
    now: number,
  ): Promise<boolean>;
  /** Unlocks an activity, visible again at `visibleAt`. */
  releaseActivity(
    activityId: number,
    lockToken: string,
    visibleAt: number,
  ): Promise<boolean>;
  /** The earliest time after `now` at which work becomes visible, if any. */
  nextWakeAt(now: number): Promise<number | undefined>;
  listInstances(filter: InstanceFilter): Promise<InstanceRecord[]>;
  /** Instances matching `filter`, counted by status; zero counts left out. */
  countInstances(filter: InstanceCountFilter): Promise<StatusCount[]>;
  /** Ids of the direct children of the given instances. */
  childrenOf(instanceIds: string[]): Promise<string[]>;
  /** Deletes terminal instances with all their rows; returns how many. */
  purge(instanceIds: string[]): Promise<number>;
}

/**
 * Told when another process made work visible in a task hub at `at`, or
 * changed an instance (then `instanceId` names it).
 */
export type WakeListener = (
  taskHub: string,
  at: number,
  instanceId?: string,
) => void;

/** A store: a database holding any number of task hubs. */
export interface Store {
  /** What the store is, for logs, e.g. `sqlite:.durascribe/hub.db`. */
  readonly description: string;
  /**
   * How often a hub should look for work on its own, when other processes
   * share the store; undefined when this process alone writes to it.
   */
  readonly pollMs: number | undefined;
  /** Registers for wake-ups from other processes sharing the store. */
  subscribe(listener: WakeListener): void;
  taskHub(name: string): TaskHubStore;
  close(): Promise<void>;
}
