/**
 * Work-item dispatch for one task hub: the connected GetWorkItems streams,
 * what each has in flight, locks and their release, group commit of activity
 * results, and the one timer that wakes the hub when work becomes visible.
 *
 * Dispatch is event-driven: anything that may make work visible calls
 * `wake()`; the pump then claims as much as the streams have room for.
 */
import { randomBytes } from "node:crypto";
import type {
  ClaimedActivity,
  NewMessage,
  OrchestrationCommit,
  TaskHubStore,
} from "../store/store.js";
import {
  applyOrchestratorResponse,
  prepareOrchestration,
  terminationMessage,
  type InFlightOrchestration,
} from "../engine.js";
import {
  EventKind,
  HEALTH_PING_WORK_ITEM,
  encodeActivityWorkItem,
  encodeOrchestratorWorkItem,
  newEvent,
  pb,
} from "../protocol.js";
import { Waiters } from "./waiters.js";
import type { BatchPolicy } from "./batching.js";
import { staleWorkItem, invalidArgument } from "../errors.js";
import type { Logger } from "../../logger.js";

/** Tunables of dispatch. */
export interface DispatchOptions {
  /** Orchestration work items in flight per stream. */
  maxOrchestrationsPerStream: number;
  /** Activity work items in flight per stream. */
  maxActivitiesPerStream: number;
  /** How long a worker holds an orchestration work item. */
  orchestrationLockMs: number;
  /** How long a worker holds an activity work item. */
  activityLockMs: number;
  /** Interval of health pings on each stream. */
  healthPingMs: number;
  /** Largest work item sent, in bytes (the worker's receive limit). */
  maxWorkItemBytes: number;
  /** Also look for work this often (another process may have added some). */
  pollMs: number | undefined;
  /** How activity results are batched; undefined sends every result at once. */
  batching: BatchPolicy | undefined;
}

/** The two kinds of work item. */
export type WorkKind = "orchestration" | "activity";

/**
 * Told about dispatch as it happens, for metrics. Every call is on the hot
 * path: an implementation must only update counters.
 */
export interface DispatchObserver {
  /** A work item went to a worker `waitMs` after its work became visible. */
  dispatched(taskHub: string, kind: WorkKind, waitMs: number): void;
  /** A store commit of `kind` work took `ms`. */
  committed(taskHub: string, kind: WorkKind, ms: number): void;
  /** Activity results were recorded: `succeeded` and `failed` of them. */
  activitiesCompleted(taskHub: string, succeeded: number, failed: number): void;
}

/** The side of a GetWorkItems call the dispatcher writes to. */
export interface WorkItemSink {
  write(item: Buffer): boolean;
}

interface Stream {
  id: string;
  sink: WorkItemSink;
  orchestrations: Set<string>;
  activities: Set<string>;
  ping: NodeJS.Timeout;
}

interface OrchestrationFlight {
  stream: Stream;
  work: InFlightOrchestration;
  lockedUntil: number;
}

interface ActivityFlight {
  stream: Stream;
  activity: ClaimedActivity;
  lockedUntil: number;
}

interface PendingActivityResult {
  flight: ActivityFlight;
  message: NewMessage;
  token: string;
  done: (err?: Error) => void;
}

type ActivityResponse = InstanceType<typeof pb.ActivityResponse>;
type OrchestratorResponse = InstanceType<typeof pb.OrchestratorResponse>;

/** Dispatch state of one task hub. */
export class Dispatcher {
  /** Callers waiting on instance state. */
  readonly waiters = new Waiters();
  private readonly streams = new Map<string, Stream>();
  private readonly orchestrations = new Map<string, OrchestrationFlight>();
  private readonly activities = new Map<string, ActivityFlight>();
  private pending: PendingActivityResult[] = [];
  private flushScheduled = false;
  private pumping = false;
  private pumpAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private poll: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly store: TaskHubStore,
    private readonly options: DispatchOptions,
    private readonly log: Logger,
    private readonly observer?: DispatchObserver,
  ) {
    if (options.pollMs) {
      this.poll = setInterval(() => this.wake(), options.pollMs);
      this.poll.unref();
    }
  }

  /** How often to re-check shared state; undefined for a private store. */
  get pollMs(): number | undefined {
    return this.options.pollMs;
  }

  /** Counts for metrics and tests. */
  stats(): { streams: number; orchestrations: number; activities: number } {
    return {
      streams: this.streams.size,
      orchestrations: this.orchestrations.size,
      activities: this.activities.size,
    };
  }

  /** Registers a worker stream; returns its close function. */
  addStream(sink: WorkItemSink): () => void {
    const id = randomBytes(6).toString("base64url");
    const ping = setInterval(
      () => sink.write(HEALTH_PING_WORK_ITEM),
      this.options.healthPingMs,
    );
    ping.unref();
    const stream: Stream = {
      id,
      sink,
      orchestrations: new Set(),
      activities: new Set(),
      ping,
    };
    this.streams.set(id, stream);
    this.log.info("worker stream opened", { stream: id });
    this.wake();
    return () => this.removeStream(stream);
  }

  /** Asks the pump to run soon; cheap to call often. */
  wake(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  /** Handles CompleteOrchestratorTask. */
  async completeOrchestration(res: OrchestratorResponse): Promise<void> {
    const token = res.getCompletiontoken();
    const flight = this.orchestrations.get(token);
    if (!flight) throw staleWorkItem(`orchestration completion "${token}"`);
    const instanceId = flight.work.claim.instance.instanceId;
    if (res.getInstanceid() !== instanceId) {
      throw invalidArgument(
        "instanceId",
        `"${res.getInstanceid()}" does not match the work item's instance "${instanceId}"`,
      );
    }
    this.forgetOrchestration(token, flight);

    const now = Date.now();
    let applied;
    try {
      applied = applyOrchestratorResponse(flight.work, res, now);
    } catch (err) {
      await this.store.releaseOrchestration(
        instanceId,
        flight.work.claim.lockToken,
        now,
      );
      this.wake();
      throw invalidArgument("actions", errorText(err));
    }
    if (!(await this.commit(applied.commit))) {
      throw staleWorkItem(`orchestration completion for "${instanceId}"`);
    }
    for (const t of applied.recursiveTerminations) {
      await this.terminateDescendants([t.instanceId], t.reason, now);
    }
  }

  /** Handles CompleteActivityTask; resolves once its result is committed. */
  completeActivity(res: ActivityResponse): Promise<void> {
    const token = res.getCompletiontoken();
    const flight = this.activities.get(token);
    if (!flight) {
      return Promise.reject(staleWorkItem(`activity completion "${token}"`));
    }
    const { activity } = flight;
    if (
      res.getInstanceid() !== activity.instanceId ||
      res.getTaskid() !== activity.taskId
    ) {
      return Promise.reject(
        invalidArgument(
          "instanceId/taskId",
          `"${res.getInstanceid()}"/${res.getTaskid()} do not match the work item (${activity.instanceId}/${activity.taskId})`,
        ),
      );
    }
    this.forgetActivity(token, flight);
    const message = activityResultMessage(activity, res, Date.now());
    return new Promise((resolve, reject) => {
      this.pending.push({
        flight,
        message,
        token,
        done: (err) => (err ? reject(err) : resolve()),
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flushActivityResults());
      }
    });
  }

  /** Handles the Abandon calls: the work goes back, visible at once. */
  async abandon(token: string): Promise<void> {
    const now = Date.now();
    const o = this.orchestrations.get(token);
    if (o) {
      this.forgetOrchestration(token, o);
      await this.store.releaseOrchestration(
        o.work.claim.instance.instanceId,
        token,
        now,
      );
      this.wake();
      return;
    }
    const a = this.activities.get(token);
    if (a) {
      this.forgetActivity(token, a);
      await this.store.releaseActivity(a.activity.id, token, now);
      this.wake();
      return;
    }
    throw staleWorkItem(`abandon "${token}"`);
  }

  /** Commits and wakes whoever may care. */
  async commit(c: OrchestrationCommit): Promise<boolean> {
    const t0 = this.observer ? performance.now() : 0;
    const ok = await this.store.commit(c);
    this.observer?.committed(
      this.store.name,
      "orchestration",
      performance.now() - t0,
    );
    if (!ok) return false;
    this.waiters.notify(c.instanceId);
    for (const m of c.messages) this.wakeAt(m.visibleAt);
    this.wake();
    return true;
  }

  /** Adds messages to inboxes and wakes the pump. */
  async enqueue(messages: NewMessage[]): Promise<void> {
    await this.store.enqueue(messages);
    for (const m of messages) this.wakeAt(m.visibleAt);
    this.wake();
  }

  /** Sends a termination to every live descendant of the given instances. */
  async terminateDescendants(
    roots: string[],
    reason: string | undefined,
    now: number,
  ): Promise<void> {
    let level = await this.store.childrenOf(roots);
    const seen = new Set(roots);
    while (level.length > 0) {
      const fresh = level.filter((id) => !seen.has(id));
      fresh.forEach((id) => seen.add(id));
      await this.enqueue(
        fresh.map((id) => terminationMessage(id, reason, true, now)),
      );
      level = fresh.length ? await this.store.childrenOf(fresh) : [];
    }
  }

  /** Stops timers and ends every stream; in-flight locks are released. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.waiters.notifyAll();
    for (const s of [...this.streams.values()]) this.removeStream(s);
    await this.flushActivityResults();
  }

  private removeStream(stream: Stream): void {
    if (!this.streams.delete(stream.id)) return;
    clearInterval(stream.ping);
    const now = Date.now();
    const releases: Promise<unknown>[] = [];
    for (const token of stream.orchestrations) {
      const f = this.orchestrations.get(token);
      if (!f) continue;
      this.orchestrations.delete(token);
      const id = f.work.claim.instance.instanceId;
      releases.push(this.store.releaseOrchestration(id, token, now));
    }
    for (const token of stream.activities) {
      const f = this.activities.get(token);
      if (!f) continue;
      this.activities.delete(token);
      releases.push(this.store.releaseActivity(f.activity.id, token, now));
    }
    this.log.info("worker stream closed", {
      stream: stream.id,
      released: releases.length,
    });
    if (this.closed) return;
    void Promise.all(releases).then(
      () => this.wake(),
      (err: unknown) =>
        this.log.error("releasing locks failed", { error: errorText(err) }),
    );
  }

  private forgetOrchestration(token: string, f: OrchestrationFlight): void {
    this.orchestrations.delete(token);
    f.stream.orchestrations.delete(token);
    this.wake();
  }

  private forgetActivity(token: string, f: ActivityFlight): void {
    this.activities.delete(token);
    f.stream.activities.delete(token);
    this.wake();
  }

  private async flushActivityResults(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      const t0 = this.observer ? performance.now() : 0;
      const results = await this.store.completeActivities(
        batch.map((p) => ({
          activityId: p.flight.activity.id,
          lockToken: p.token,
          message: p.message,
        })),
      );
      if (this.observer) this.observeResults(this.observer, batch, results, t0);
      batch.forEach((p, i) =>
        p.done(
          results[i]
            ? undefined
            : staleWorkItem(
                `activity completion for "${p.flight.activity.instanceId}"`,
              ),
        ),
      );
    } catch (err) {
      for (const p of batch) {
        p.done(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.wake();
  }

  private observeResults(
    o: DispatchObserver,
    batch: PendingActivityResult[],
    results: boolean[],
    t0: number,
  ): void {
    o.committed(this.store.name, "activity", performance.now() - t0);
    let failed = 0;
    let succeeded = 0;
    batch.forEach((p, i) => {
      if (!results[i]) return;
      if (p.message.kind === EventKind.TASKFAILED) failed++;
      else succeeded++;
    });
    o.activitiesCompleted(this.store.name, succeeded, failed);
  }

  private async pump(): Promise<void> {
    try {
      // One clock reading per round: the timer below must look past exactly
      // the instant the claims looked at, or work due in between is missed.
      let now: number;
      do {
        this.pumpAgain = false;
        if (this.closed) return;
        now = Date.now();
        this.expireLocks(now);
        const moved =
          (await this.pumpOrchestrations(now)) +
          (await this.pumpActivities(now));
        if (moved > 0) this.pumpAgain = true;
      } while (this.pumpAgain);
      await this.armTimer(now);
    } catch (err) {
      this.log.error("dispatch failed", { error: errorText(err) });
      this.wakeAt(Date.now() + 1000);
    } finally {
      this.pumping = false;
      if (this.pumpAgain) this.wake();
    }
  }

  private freeSlots(kind: "orchestrations" | "activities"): number {
    const max =
      kind === "orchestrations"
        ? this.options.maxOrchestrationsPerStream
        : this.options.maxActivitiesPerStream;
    let free = 0;
    for (const s of this.streams.values()) {
      free += Math.max(0, max - s[kind].size);
    }
    return free;
  }

  /** The stream with the most room for `kind`, if any has room. */
  private pickStream(
    kind: "orchestrations" | "activities",
  ): Stream | undefined {
    const max =
      kind === "orchestrations"
        ? this.options.maxOrchestrationsPerStream
        : this.options.maxActivitiesPerStream;
    let best: Stream | undefined;
    for (const s of this.streams.values()) {
      if (s[kind].size >= max) continue;
      if (!best || s[kind].size < best[kind].size) best = s;
    }
    return best;
  }

  private async pumpOrchestrations(now: number): Promise<number> {
    const free = this.freeSlots("orchestrations");
    if (free === 0) return 0;
    const lockedUntil = now + this.options.orchestrationLockMs;
    const claims = await this.store.claimOrchestrations(
      now,
      lockedUntil,
      free,
      this.options.batching,
    );
    for (const claim of claims) {
      const prepared = prepareOrchestration(
        claim,
        now,
        this.options.maxWorkItemBytes,
      );
      if (prepared.kind === "commit") {
        await this.commit(prepared.commit);
        continue;
      }
      const stream = this.pickStream("orchestrations");
      if (!stream) {
        await this.store.releaseOrchestration(
          claim.instance.instanceId,
          claim.lockToken,
          now,
        );
        continue;
      }
      this.orchestrations.set(claim.lockToken, {
        stream,
        work: prepared.inFlight,
        lockedUntil,
      });
      stream.orchestrations.add(claim.lockToken);
      stream.sink.write(
        encodeOrchestratorWorkItem(prepared.request, claim.lockToken),
      );
      if (this.observer) {
        let ready = now;
        for (const m of claim.messages) ready = Math.min(ready, m.visibleAt);
        this.observer.dispatched(this.store.name, "orchestration", now - ready);
      }
    }
    if (claims.length) this.wakeAt(lockedUntil);
    return claims.length;
  }

  private async pumpActivities(now: number): Promise<number> {
    const free = this.freeSlots("activities");
    if (free === 0) return 0;
    const lockedUntil = now + this.options.activityLockMs;
    const claims = await this.store.claimActivities(now, lockedUntil, free);
    for (const activity of claims) {
      const stream = this.pickStream("activities");
      if (!stream) {
        await this.store.releaseActivity(activity.id, activity.lockToken, now);
        continue;
      }
      this.activities.set(activity.lockToken, {
        stream,
        activity,
        lockedUntil,
      });
      stream.activities.add(activity.lockToken);
      stream.sink.write(
        encodeActivityWorkItem(activity.request, activity.lockToken),
      );
      this.observer?.dispatched(
        this.store.name,
        "activity",
        now - activity.readyAt,
      );
    }
    if (claims.length) this.wakeAt(lockedUntil);
    return claims.length;
  }

  /** Forgets in-flight records whose locks ran out: the work was re-claimable. */
  private expireLocks(now: number): void {
    for (const [token, f] of this.orchestrations) {
      if (f.lockedUntil <= now) this.forgetOrchestration(token, f);
    }
    for (const [token, f] of this.activities) {
      if (f.lockedUntil <= now) this.forgetActivity(token, f);
    }
  }

  /** Makes sure the timer fires no later than `at`. */
  wakeAt(at: number): void {
    if (this.closed || at >= this.timerAt) return;
    const now = Date.now();
    if (at <= now) {
      this.wake();
      return;
    }
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.wake();
    }, at - now);
    this.timer.unref();
  }

  private async armTimer(now: number): Promise<void> {
    const next = await this.store.nextWakeAt(now);
    if (next !== undefined) this.wakeAt(next);
  }
}

/** The TaskCompleted or TaskFailed message for an activity's result. */
function activityResultMessage(
  activity: ClaimedActivity,
  res: ActivityResponse,
  now: number,
): NewMessage {
  const e = newEvent(-1, now);
  const failure = res.getFailuredetails();
  let kind: number;
  if (failure) {
    const body = new pb.TaskFailedEvent();
    body.setTaskscheduledid(activity.taskId);
    body.setFailuredetails(failure);
    e.setTaskfailed(body);
    kind = EventKind.TASKFAILED;
  } else {
    const body = new pb.TaskCompletedEvent();
    body.setTaskscheduledid(activity.taskId);
    const result = res.getResult();
    if (result) body.setResult(result);
    e.setTaskcompleted(body);
    kind = EventKind.TASKCOMPLETED;
  }
  return {
    instanceId: activity.instanceId,
    executionId: activity.executionId,
    kind,
    event: e.serializeBinary(),
    visibleAt: now,
  };
}

/** The message of an unknown thrown value. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
