/**
 * The TaskHubSidecarService handlers: request validation and the client-side
 * operations (start, query, raise, terminate, purge, ...). Work-item
 * streaming and completions are delegated to the task hub's Dispatcher.
 */
import { status } from "@grpc/grpc-js";
import type { Dispatcher } from "./dispatch/dispatcher.js";
import type { InstanceRecord } from "./store/store.js";
import {
  eventRaised,
  executionStartedMessage,
  newInstanceRecord,
  suspendResumeMessage,
  terminationMessage,
} from "./engine.js";
import { HubError, invalidArgument, notFound } from "./errors.js";
import {
  Status,
  isTerminal,
  millis,
  statusName,
  pb,
  stringValue,
  timestamp,
} from "./protocol.js";

/** An instance of the generated message class `K`. */
type Msg<K extends keyof typeof pb> = (typeof pb)[K] extends new () => infer R
  ? R
  : never;

const MAX_ID_LENGTH = 256;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** Checks an instance id: present, not too long, no control characters. */
export function requireInstanceId(value: string, field = "instanceId"): string {
  if (!value) throw invalidArgument(field, "is required");
  if (value.length > MAX_ID_LENGTH) {
    throw invalidArgument(
      field,
      `is ${value.length} characters; the limit is ${MAX_ID_LENGTH}`,
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidArgument(field, "contains control characters");
  }
  return value;
}

/** The client-facing operations of one task hub. */
export class HubService {
  constructor(private readonly d: Dispatcher) {}

  private get store() {
    return this.d.store;
  }

  async startInstance(req: Msg<"CreateInstanceRequest">): Promise<string> {
    const instanceId = requireInstanceId(req.getInstanceid());
    if (!req.getName()) throw invalidArgument("name", "is required");
    const now = Date.now();
    const startAt = millis(req.getScheduledstarttimestamp());
    const record: InstanceRecord = {
      ...newInstanceRecord(
        instanceId,
        req.getName(),
        req.getInput()?.getValue() ?? null,
        now,
      ),
      version: req.getVersion()?.getValue() ?? null,
      scheduledStartAt: startAt !== undefined && startAt > now ? startAt : null,
      tags: tagsJson(req.getTagsMap()),
    };
    const executionId = req.getExecutionid()?.getValue();
    if (executionId) record.executionId = executionId;

    const start = executionStartedMessage(record, now);
    const created = await this.store.createInstance(record, start);
    if (!created) {
      const existing = await this.store.getInstance(instanceId);
      throw new HubError(
        status.ALREADY_EXISTS,
        `instance "${instanceId}" already exists and is ${statusWord(existing?.status)}; terminate or purge it first, or use another id`,
      );
    }
    this.d.waiters.notify(instanceId);
    this.d.wakeAt(start.visibleAt);
    return instanceId;
  }

  async getInstance(
    instanceId: string,
    payloads: boolean,
  ): Promise<Msg<"GetInstanceResponse">> {
    requireInstanceId(instanceId);
    const instance = await this.store.getInstance(instanceId);
    return instanceResponse(instance, payloads);
  }

  /** Waits until `done(instance)` holds, or the call is cancelled. */
  async waitFor(
    instanceId: string,
    payloads: boolean,
    done: (i: InstanceRecord) => boolean,
    signal: AbortSignal,
  ): Promise<Msg<"GetInstanceResponse">> {
    requireInstanceId(instanceId);
    for (;;) {
      const change = this.d.waiters.next(instanceId, signal, this.d.pollMs);
      const instance = await this.store.getInstance(instanceId);
      if (!instance) throw notFound(this.store.name, instanceId);
      if (done(instance)) {
        this.d.waiters.notify(instanceId);
        return instanceResponse(instance, payloads);
      }
      if (signal.aborted) {
        throw new HubError(status.CANCELLED, "the wait was cancelled");
      }
      await change;
    }
  }

  async raiseEvent(req: Msg<"RaiseEventRequest">): Promise<void> {
    const instance = await this.existing(req.getInstanceid());
    if (!req.getName()) throw invalidArgument("name", "is required");
    const now = Date.now();
    const visibleAt = Math.max(now, instance.scheduledStartAt ?? 0);
    await this.d.enqueue([
      eventRaised(
        instance.instanceId,
        req.getName(),
        req.getInput(),
        now,
        visibleAt,
      ),
    ]);
  }

  async terminate(req: Msg<"TerminateRequest">): Promise<void> {
    const instance = await this.existing(req.getInstanceid());
    const now = Date.now();
    const output = req.getOutput()?.getValue();
    if (!isTerminal(instance.status)) {
      await this.d.enqueue([
        terminationMessage(
          instance.instanceId,
          output,
          req.getRecursive(),
          now,
        ),
      ]);
    }
    if (req.getRecursive()) {
      await this.d.terminateDescendants([instance.instanceId], output, now);
    }
  }

  async suspendResume(
    instanceId: string,
    suspend: boolean,
    reason: string | undefined,
  ): Promise<void> {
    const instance = await this.existing(instanceId);
    if (isTerminal(instance.status)) {
      throw new HubError(
        status.FAILED_PRECONDITION,
        `instance "${instanceId}" is ${statusWord(instance.status)} and cannot be ${suspend ? "suspended" : "resumed"}`,
      );
    }
    const now = Date.now();
    const visibleAt = Math.max(now, instance.scheduledStartAt ?? 0);
    await this.d.enqueue([
      suspendResumeMessage(instanceId, suspend, reason, now, visibleAt),
    ]);
  }

  async query(q: Msg<"InstanceQuery">): Promise<Msg<"QueryInstancesResponse">> {
    const limit = pageSize(q.getMaxinstancecount(), "query.maxInstanceCount");
    const token = q.getContinuationtoken()?.getValue();
    const rows = await this.store.listInstances({
      statuses: statuses(q.getRuntimestatusList()),
      createdFrom: millis(q.getCreatedtimefrom()),
      createdTo: millis(q.getCreatedtimeto()),
      instanceIdPrefix: q.getInstanceidprefix()?.getValue(),
      after: token ? decodeToken(token, "query.continuationToken") : undefined,
      limit: limit + 1,
    });
    const res = new pb.QueryInstancesResponse();
    const page = rows.slice(0, limit);
    res.setOrchestrationstateList(
      page.map((r) => orchestrationState(r, q.getFetchinputsandoutputs())),
    );
    if (rows.length > limit) {
      res.setContinuationtoken(
        stringValue(encodeToken(page.at(-1)!.instanceId)),
      );
    }
    return res;
  }

  async listIds(
    req: Msg<"ListInstanceIdsRequest">,
  ): Promise<Msg<"ListInstanceIdsResponse">> {
    const limit = pageSize(req.getPagesize(), "pageSize");
    const key = req.getLastinstancekey()?.getValue();
    const rows = await this.store.listInstances({
      statuses: statuses(req.getRuntimestatusList()),
      completedFrom: millis(req.getCompletedtimefrom()),
      completedTo: millis(req.getCompletedtimeto()),
      after: key ? decodeToken(key, "lastInstanceKey") : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const res = new pb.ListInstanceIdsResponse();
    res.setInstanceidsList(page.map((r) => r.instanceId));
    if (rows.length > limit) {
      res.setLastinstancekey(stringValue(encodeToken(page.at(-1)!.instanceId)));
    }
    return res;
  }

  async purge(req: Msg<"PurgeInstancesRequest">): Promise<number> {
    const recursive = req.getRecursive();
    if (req.hasPurgeinstancefilter()) {
      return this.purgeByFilter(req.getPurgeinstancefilter()!, recursive);
    }
    const id = requireInstanceId(req.getInstanceid());
    return this.purgeIds([id], recursive);
  }

  async history(instanceId: string): Promise<Uint8Array[]> {
    const instance = await this.existing(instanceId);
    return this.store.getHistory(instance.instanceId);
  }

  private async purgeByFilter(
    f: Msg<"PurgeInstanceFilter">,
    recursive: boolean,
  ): Promise<number> {
    const wanted = statuses(f.getRuntimestatusList());
    const terminal = [1, 3, 4, 5].filter((s) => !wanted || wanted.includes(s));
    let total = 0;
    let after: string | undefined;
    for (;;) {
      const rows = await this.store.listInstances({
        statuses: terminal,
        createdFrom: millis(f.getCreatedtimefrom()),
        createdTo: millis(f.getCreatedtimeto()),
        after,
        limit: 500,
      });
      if (rows.length === 0) return total;
      total += await this.purgeIds(
        rows.map((r) => r.instanceId),
        recursive,
      );
      after = rows.at(-1)!.instanceId;
    }
  }

  private async purgeIds(ids: string[], recursive: boolean): Promise<number> {
    const all = [...ids];
    if (recursive) {
      let level = await this.store.childrenOf(ids);
      while (level.length) {
        all.push(...level);
        level = await this.store.childrenOf(level);
      }
    }
    return this.store.purge(all);
  }

  private async existing(instanceId: string): Promise<InstanceRecord> {
    requireInstanceId(instanceId);
    const instance = await this.store.getInstance(instanceId);
    if (!instance) throw notFound(this.store.name, instanceId);
    return instance;
  }
}

function statusWord(s: number | undefined): string {
  return s === undefined ? "gone" : statusName(s).toLowerCase();
}

function statuses(list: number[]): number[] | undefined {
  const known: readonly number[] = Object.values(Status);
  for (const s of list) {
    if (!known.includes(s)) {
      throw invalidArgument(
        "runtimeStatus",
        `${s} is not an orchestration status`,
      );
    }
  }
  return list.length ? list : undefined;
}

function pageSize(n: number, field: string): number {
  if (n < 0) throw invalidArgument(field, `must not be negative (got ${n})`);
  if (n > MAX_PAGE) {
    throw invalidArgument(field, `is ${n}; the limit is ${MAX_PAGE}`);
  }
  return n === 0 ? DEFAULT_PAGE : n;
}

function encodeToken(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

function decodeToken(token: string, field: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    throw invalidArgument(field, "is not a token this hub issued");
  }
  return Buffer.from(token, "base64url").toString("utf8");
}

function tagsJson(map: { getEntryList(): [string, string][] }): string | null {
  const entries = map.getEntryList();
  return entries.length ? JSON.stringify(Object.fromEntries(entries)) : null;
}

/** The protocol OrchestrationState of a stored instance. */
export function orchestrationState(
  r: InstanceRecord,
  payloads: boolean,
): Msg<"OrchestrationState"> {
  const s = new pb.OrchestrationState();
  s.setInstanceid(r.instanceId);
  s.setName(r.name);
  if (r.version !== null) s.setVersion(stringValue(r.version));
  s.setOrchestrationstatus(r.status);
  if (r.scheduledStartAt !== null) {
    s.setScheduledstarttimestamp(timestamp(r.scheduledStartAt));
  }
  s.setCreatedtimestamp(timestamp(r.createdAt));
  s.setLastupdatedtimestamp(timestamp(r.updatedAt));
  if (r.completedAt !== null) s.setCompletedtimestamp(timestamp(r.completedAt));
  s.setExecutionid(stringValue(r.executionId));
  if (r.parentInstanceId !== null) {
    s.setParentinstanceid(stringValue(r.parentInstanceId));
  }
  if (r.failure) {
    s.setFailuredetails(pb.TaskFailureDetails.deserializeBinary(r.failure));
  }
  if (r.tags !== null) {
    const tags = JSON.parse(r.tags) as Record<string, string>;
    for (const [k, v] of Object.entries(tags)) s.getTagsMap().set(k, v);
  }
  if (payloads) {
    if (r.input !== null) s.setInput(stringValue(r.input));
    if (r.output !== null) s.setOutput(stringValue(r.output));
    if (r.customStatus !== null) s.setCustomstatus(stringValue(r.customStatus));
  }
  return s;
}

function instanceResponse(
  instance: InstanceRecord | undefined,
  payloads: boolean,
): Msg<"GetInstanceResponse"> {
  const res = new pb.GetInstanceResponse();
  res.setExists(instance !== undefined);
  if (instance) {
    res.setOrchestrationstate(orchestrationState(instance, payloads));
  }
  return res;
}
