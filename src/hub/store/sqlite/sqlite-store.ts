/**
 * The embedded store: one SQLite file (WAL) held exclusively by one hub
 * process. Because no other process can hold locks in the file, locks left by
 * a killed hub are released when the file is opened again, so in-flight work
 * is delivered again at once.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import type {
  ActivityCompletion,
  ClaimedActivity,
  ClaimedOrchestration,
  HistoryRange,
  InstanceCountFilter,
  InstanceFilter,
  InstanceRecord,
  NewActivity,
  NewMessage,
  OrchestrationCommit,
  StatusCount,
  Store,
  StoredMessage,
  TaskHubStore,
} from "../store.js";
import { MIGRATIONS } from "./schema.js";
import { EventKind, isTerminal } from "../../protocol.js";
import { holdUntil, type BatchPolicy } from "../../dispatch/batching.js";

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** `NORMAL` (default) survives a killed process; `FULL` also a power cut. */
  synchronous?: "NORMAL" | "FULL";
  /** Most inbox rows handed to one work item. */
  maxMessagesPerWorkItem?: number;
}

type Row = Record<string, unknown>;

/** Opens (creating and migrating) a SQLite store at `path`. */
export function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Store {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous ?? "NORMAL"}`);
    // One hub per file: hold the write lock for the life of the connection.
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN IMMEDIATE; COMMIT;");
  } catch (err) {
    db.close();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot open store sqlite:${path}: ${reason} (is another hub using this file?)`,
    );
  }
  migrate(db);
  return new SqliteStore(db, path, options.maxMessagesPerWorkItem ?? 10_000);
}

function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `store schema version ${current} is newer than this durascribe (${MIGRATIONS.length}); upgrade durascribe`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

class SqliteStore implements Store {
  readonly description: string;
  readonly pollMs = undefined;
  private readonly hubs = new Map<string, SqliteTaskHub>();
  private readonly tokenPrefix = randomBytes(6).toString("base64url");

  constructor(
    private readonly db: Database.Database,
    path: string,
    private readonly maxMessages: number,
  ) {
    this.description = `sqlite:${path}`;
    this.releaseAllLocks(Date.now());
  }

  taskHub(name: string): TaskHubStore {
    let hub = this.hubs.get(name);
    if (!hub) {
      hub = new SqliteTaskHub(
        this.db,
        name,
        this.tokenPrefix,
        this.maxMessages,
      );
      this.hubs.set(name, hub);
    }
    return hub;
  }

  subscribe(): void {
    // Only this process writes to the file: nobody else wakes us.
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  private releaseAllLocks(now: number): void {
    this.db
      .prepare(
        `UPDATE instances SET locked_by = NULL, locked_until = NULL,
           ready_at = (SELECT MIN(visible_at) FROM inbox m
                       WHERE m.hub = instances.hub AND m.instance_id = instances.instance_id)
         WHERE locked_by IS NOT NULL`,
      )
      .run();
    this.db
      .prepare(
        `UPDATE activities SET locked_by = NULL, visible_at = ? WHERE locked_by IS NOT NULL`,
      )
      .run(now);
  }
}

/** The columns of a list that needs no payloads: input and output unread. */
const SUMMARY_COLUMNS = `instance_id, name, version, status, execution_id,
  NULL AS input, NULL AS output, custom_status, failure, created_at, updated_at,
  completed_at, scheduled_start_at, parent_instance_id, tags`;

function toInstance(r: Row): InstanceRecord {
  return {
    instanceId: r.instance_id as string,
    name: r.name as string,
    version: r.version as string | null,
    status: r.status as number,
    executionId: r.execution_id as string,
    input: r.input as string | null,
    output: r.output as string | null,
    customStatus: r.custom_status as string | null,
    failure: r.failure as Uint8Array | null,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    completedAt: r.completed_at as number | null,
    scheduledStartAt: r.scheduled_start_at as number | null,
    parentInstanceId: r.parent_instance_id as string | null,
    tags: r.tags as string | null,
  };
}

const TERMINAL_SQL = "(1, 3, 4, 5)";

/** The WHERE terms and parameters every instance query shares. */
function filterSql(
  hub: string,
  f: InstanceCountFilter,
): { where: string[]; params: Record<string, unknown> } {
  const where = ["hub = @hub"];
  const params: Record<string, unknown> = { hub };
  const ranges: [keyof InstanceCountFilter, string, string][] = [
    ["createdFrom", "created_at", ">="],
    ["createdTo", "created_at", "<="],
    ["completedFrom", "completed_at", ">="],
    ["completedTo", "completed_at", "<="],
  ];
  for (const [field, column, op] of ranges) {
    if (f[field] !== undefined) {
      where.push(`${column} ${op} @${field}`);
      params[field] = f[field];
    }
  }
  if (f.instanceIdPrefix) {
    // Range on the key, so the primary key index serves the prefix.
    where.push(`instance_id >= @prefix AND instance_id < @prefixEnd`);
    params.prefix = f.instanceIdPrefix;
    params.prefixEnd = f.instanceIdPrefix + "\u{10FFFF}";
  }
  if (f.name) {
    where.push(`name = @name`);
    params.name = f.name;
  }
  if (f.parentInstanceId === null) {
    where.push(`parent_instance_id IS NULL`);
  } else if (f.parentInstanceId !== undefined) {
    where.push(`parent_instance_id = @parent`);
    params.parent = f.parentInstanceId;
  }
  return { where, params };
}

class SqliteTaskHub implements TaskHubStore {
  private counter = 0;
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    readonly name: string,
    private readonly tokenPrefix: string,
    private readonly maxMessages: number,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      getInstance: p(
        `SELECT * FROM instances WHERE hub = @hub AND instance_id = @id`,
      ),
      insertInstance: p(
        `INSERT INTO instances (hub, instance_id, name, version, status, execution_id,
           input, output, custom_status, failure, created_at, updated_at, completed_at,
           scheduled_start_at, parent_instance_id, tags)
         VALUES (@hub, @instanceId, @name, @version, @status, @executionId, @input,
           @output, @customStatus, @failure, @createdAt, @updatedAt, @completedAt,
           @scheduledStartAt, @parentInstanceId, @tags)`,
      ),
      deleteInstance: p(
        `DELETE FROM instances WHERE hub = @hub AND instance_id = @id`,
      ),
      deleteHistory: p(
        `DELETE FROM history WHERE hub = @hub AND instance_id = @id`,
      ),
      deleteInbox: p(
        `DELETE FROM inbox WHERE hub = @hub AND instance_id = @id`,
      ),
      deleteActivities: p(
        `DELETE FROM activities WHERE hub = @hub AND instance_id = @id`,
      ),
      history: p(
        `SELECT event FROM history WHERE hub = @hub AND instance_id = @id ORDER BY seq`,
      ),
      historyRange: p(
        `SELECT event FROM history WHERE hub = @hub AND instance_id = @id AND seq >= @offset
         ORDER BY seq LIMIT @limit`,
      ),
      insertHistory: p(
        `INSERT INTO history (hub, instance_id, seq, event) VALUES (@hub, @id, @seq, @event)`,
      ),
      insertMessage: p(
        `INSERT INTO inbox (hub, instance_id, execution_id, kind, event, visible_at)
         SELECT @hub, @instanceId, @executionId, @kind, @event, @visibleAt
         WHERE EXISTS (SELECT 1 FROM instances WHERE hub = @hub AND instance_id = @instanceId)`,
      ),
      // A message never makes a locked instance ready before its lock ends.
      markReady: p(
        `UPDATE instances
         SET ready_at = MIN(COALESCE(ready_at, 9e15), MAX(@visibleAt, COALESCE(locked_until, 0)))
         WHERE hub = @hub AND instance_id = @instanceId`,
      ),
      deleteMessage: p(`DELETE FROM inbox WHERE id = @id`),
      readyInstances: p(
        `SELECT instance_id, history_length, pending_activities FROM instances
         WHERE hub = @hub AND ready_at <= @now ORDER BY ready_at LIMIT @limit`,
      ),
      inboxSummary: p(
        `SELECT COUNT(*) AS messages, MIN(visible_at) AS oldest,
           SUM(kind IN (${EventKind.TASKCOMPLETED}, ${EventKind.TASKFAILED})) AS results
         FROM inbox WHERE hub = @hub AND instance_id = @id AND visible_at <= @now`,
      ),
      hold: p(
        `UPDATE instances SET ready_at = @until
         WHERE hub = @hub AND instance_id = @id AND locked_by IS NULL`,
      ),
      activityDone: p(
        `UPDATE instances SET pending_activities = MAX(0, pending_activities - 1)
         WHERE hub = @hub AND instance_id = @instanceId`,
      ),
      lockInstance: p(
        `UPDATE instances SET locked_by = @token, locked_until = @until, ready_at = @until
         WHERE hub = @hub AND instance_id = @id`,
      ),
      visibleMessages: p(
        `SELECT id, instance_id, execution_id, kind, event, visible_at FROM inbox
         WHERE hub = @hub AND instance_id = @id AND visible_at <= @now
         ORDER BY (kind = ${EventKind.EXECUTIONSTARTED}) DESC, id LIMIT @limit`,
      ),
      unlockInstance: p(
        `UPDATE instances SET locked_by = NULL, locked_until = NULL,
           ready_at = (SELECT MIN(visible_at) FROM inbox WHERE hub = @hub AND instance_id = @id)
         WHERE hub = @hub AND instance_id = @id AND locked_by = @token`,
      ),
      recomputeReady: p(
        `UPDATE instances SET
           ready_at = (SELECT MIN(visible_at) FROM inbox WHERE hub = @hub AND instance_id = @id)
         WHERE hub = @hub AND instance_id = @id AND locked_by IS NULL`,
      ),
      writeInstance: p(
        `UPDATE instances SET status = @status, execution_id = @executionId, input = @input,
           output = @output, custom_status = @customStatus, failure = @failure,
           updated_at = @updatedAt, completed_at = @completedAt,
           history_length = @historyLength,
           pending_activities = pending_activities + @newActivities
         WHERE hub = @hub AND instance_id = @instanceId`,
      ),
      insertActivity: p(
        `INSERT INTO activities (hub, instance_id, execution_id, task_id, name, request, visible_at)
         VALUES (@hub, @instanceId, @executionId, @taskId, @name, @request, @visibleAt)`,
      ),
      visibleActivities: p(
        `SELECT id, instance_id, execution_id, task_id, name, request, visible_at FROM activities
         WHERE hub = @hub AND visible_at <= @now ORDER BY visible_at, id LIMIT @limit`,
      ),
      lockActivity: p(
        `UPDATE activities SET locked_by = @token, visible_at = @until WHERE id = @id`,
      ),
      finishActivity: p(
        `DELETE FROM activities WHERE id = @id AND locked_by = @token RETURNING id`,
      ),
      releaseActivity: p(
        `UPDATE activities SET locked_by = NULL, visible_at = @visibleAt
         WHERE id = @id AND locked_by = @token`,
      ),
      nextInstanceWake: p(
        `SELECT MIN(ready_at) AS t FROM instances WHERE hub = @hub AND ready_at > @now`,
      ),
      nextActivityWake: p(
        `SELECT MIN(visible_at) AS t FROM activities WHERE hub = @hub AND visible_at > @now`,
      ),
      children: p(
        `SELECT instance_id FROM instances
         WHERE hub = @hub AND parent_instance_id IN (SELECT value FROM json_each(@ids))`,
      ),
      purgeInstance: p(
        `DELETE FROM instances WHERE hub = @hub AND instance_id = @id
           AND status IN ${TERMINAL_SQL}`,
      ),
    };
  }

  createInstance(
    instance: InstanceRecord,
    start: NewMessage,
  ): Promise<boolean> {
    return Promise.resolve(
      this.db.transaction(() => this.createTx(instance, start))(),
    );
  }

  getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const row = this.s.getInstance.get({ hub: this.name, id: instanceId }) as
      Row | undefined;
    return Promise.resolve(row ? toInstance(row) : undefined);
  }

  getHistory(instanceId: string, range?: HistoryRange): Promise<Uint8Array[]> {
    if (!range) return Promise.resolve(this.historyOf(instanceId));
    const rows = this.s.historyRange.all({
      hub: this.name,
      id: instanceId,
      ...range,
    }) as Row[];
    return Promise.resolve(rows.map((r) => r.event as Uint8Array));
  }

  enqueue(messages: NewMessage[]): Promise<void> {
    this.db.transaction(() => {
      for (const m of messages) this.enqueueTx(m);
    })();
    return Promise.resolve();
  }

  claimOrchestrations(
    now: number,
    lockUntil: number,
    limit: number,
    policy?: BatchPolicy,
  ): Promise<ClaimedOrchestration[]> {
    return Promise.resolve(
      this.db.transaction(() => {
        // Look a little past `limit`: some candidates may be held back.
        const candidates = this.s.readyInstances.all({
          hub: this.name,
          now,
          limit: policy ? limit + 16 : limit,
        }) as Row[];
        const claims: ClaimedOrchestration[] = [];
        for (const c of candidates) {
          if (claims.length === limit) break;
          const id = c.instance_id as string;
          if (policy && this.holdTx(c, now, policy)) continue;
          claims.push(this.claimOneTx(id, now, lockUntil));
        }
        return claims;
      })(),
    );
  }

  claimActivities(
    now: number,
    lockUntil: number,
    limit: number,
  ): Promise<ClaimedActivity[]> {
    return Promise.resolve(
      this.db.transaction(() => {
        const rows = this.s.visibleActivities.all({
          hub: this.name,
          now,
          limit,
        }) as Row[];
        return rows.map((r) => {
          const lockToken = this.nextToken();
          this.s.lockActivity.run({
            token: lockToken,
            until: lockUntil,
            id: r.id,
          });
          return {
            id: r.id as number,
            instanceId: r.instance_id as string,
            executionId: r.execution_id as string,
            taskId: r.task_id as number,
            name: r.name as string,
            request: r.request as Uint8Array,
            visibleAt: lockUntil,
            lockToken,
            readyAt: r.visible_at as number,
          };
        });
      })(),
    );
  }

  commit(c: OrchestrationCommit): Promise<boolean> {
    return Promise.resolve(this.db.transaction(() => this.commitTx(c))());
  }

  completeActivities(completions: ActivityCompletion[]): Promise<boolean[]> {
    return Promise.resolve(
      this.db.transaction(() =>
        completions.map((c) => {
          const gone = this.s.finishActivity.get({
            id: c.activityId,
            token: c.lockToken,
          });
          if (!gone) return false;
          this.s.activityDone.run({ hub: this.name, ...c.message });
          this.enqueueTx(c.message);
          return true;
        }),
      )(),
    );
  }

  releaseOrchestration(
    instanceId: string,
    lockToken: string,
    _now: number,
  ): Promise<boolean> {
    const r = this.s.unlockInstance.run({
      hub: this.name,
      id: instanceId,
      token: lockToken,
    });
    return Promise.resolve(r.changes === 1);
  }

  releaseActivity(
    activityId: number,
    lockToken: string,
    visibleAt: number,
  ): Promise<boolean> {
    const r = this.s.releaseActivity.run({
      id: activityId,
      token: lockToken,
      visibleAt,
    });
    return Promise.resolve(r.changes === 1);
  }

  nextWakeAt(now: number): Promise<number | undefined> {
    const a = this.s.nextInstanceWake.get({ hub: this.name, now }) as Row;
    const b = this.s.nextActivityWake.get({ hub: this.name, now }) as Row;
    const times = [a.t, b.t].filter((t): t is number => typeof t === "number");
    return Promise.resolve(times.length ? Math.min(...times) : undefined);
  }

  listInstances(f: InstanceFilter): Promise<InstanceRecord[]> {
    const { where, params } = filterSql(this.name, f);
    if (f.statuses?.length) {
      where.push(`status IN (SELECT value FROM json_each(@statuses))`);
      params.statuses = JSON.stringify(f.statuses);
    }
    let order = "instance_id";
    if (f.order === "newest") {
      // The created-time index holds the primary key too, so it serves
      // this order and the keyset below without a sort.
      order = "created_at DESC, instance_id DESC";
      if (f.before) {
        where.push(
          `(created_at < @beforeAt OR (created_at = @beforeAt AND instance_id < @beforeId))`,
        );
        params.beforeAt = f.before.createdAt;
        params.beforeId = f.before.instanceId;
      }
    } else if (f.after !== undefined) {
      where.push(`instance_id > @after`);
      params.after = f.after;
    }
    params.limit = f.limit;
    const rows = this.db
      .prepare(
        `SELECT ${f.withPayloads === false ? SUMMARY_COLUMNS : "*"} FROM instances WHERE ${where.join(" AND ")}
         ORDER BY ${order} LIMIT @limit`,
      )
      .all(params) as Row[];
    return Promise.resolve(rows.map(toInstance));
  }

  countInstances(f: InstanceCountFilter): Promise<StatusCount[]> {
    const { where, params } = filterSql(this.name, f);
    const rows = this.db
      .prepare(
        `SELECT status, COUNT(*) AS n FROM instances WHERE ${where.join(" AND ")}
         GROUP BY status ORDER BY status`,
      )
      .all(params) as Row[];
    return Promise.resolve(
      rows.map((r) => ({ status: r.status as number, count: r.n as number })),
    );
  }

  childrenOf(instanceIds: string[]): Promise<string[]> {
    const rows = this.s.children.all({
      hub: this.name,
      ids: JSON.stringify(instanceIds),
    }) as Row[];
    return Promise.resolve(rows.map((r) => r.instance_id as string));
  }

  purge(instanceIds: string[]): Promise<number> {
    return Promise.resolve(
      this.db.transaction(() => {
        let n = 0;
        for (const id of instanceIds) {
          const key = { hub: this.name, id };
          if (this.s.purgeInstance.run(key).changes === 0) continue;
          this.deleteRowsOf(id);
          n++;
        }
        return n;
      })(),
    );
  }

  private nextToken(): string {
    this.counter++;
    return `${this.tokenPrefix}.${this.counter.toString(36)}`;
  }

  private historyOf(instanceId: string): Uint8Array[] {
    return this.s.history
      .all({ hub: this.name, id: instanceId })
      .map((r) => (r as Row).event as Uint8Array);
  }

  private deleteRowsOf(instanceId: string): void {
    const key = { hub: this.name, id: instanceId };
    this.s.deleteHistory.run(key);
    this.s.deleteInbox.run(key);
    this.s.deleteActivities.run(key);
  }

  private createTx(instance: InstanceRecord, start: NewMessage): boolean {
    const key = { hub: this.name, id: instance.instanceId };
    const existing = this.s.getInstance.get(key) as Row | undefined;
    if (existing) {
      if (!isTerminal(existing.status as number)) return false;
      this.s.deleteInstance.run(key);
      this.deleteRowsOf(instance.instanceId);
    }
    this.s.insertInstance.run({ hub: this.name, ...instance });
    this.enqueueTx(start);
    return true;
  }

  private enqueueTx(m: NewMessage): void {
    const params = { hub: this.name, ...m };
    if (this.s.insertMessage.run(params).changes === 1) {
      this.s.markReady.run(params);
    }
  }

  /** Applies the batching policy; true when the instance is held back. */
  private holdTx(candidate: Row, now: number, policy: BatchPolicy): boolean {
    const id = candidate.instance_id as string;
    const inbox = this.s.inboxSummary.get({ hub: this.name, id, now }) as Row;
    const until = holdUntil(
      {
        messages: inbox.messages as number,
        results: (inbox.results as number | null) ?? 0,
        oldest: (inbox.oldest as number | null) ?? now,
        pendingActivities: candidate.pending_activities as number,
        historyLength: candidate.history_length as number,
      },
      now,
      policy,
    );
    if (until === undefined) return false;
    this.s.hold.run({ hub: this.name, id, until });
    return true;
  }

  private claimOneTx(
    id: string,
    now: number,
    lockUntil: number,
  ): ClaimedOrchestration {
    const lockToken = this.nextToken();
    const key = { hub: this.name, id };
    this.s.lockInstance.run({ ...key, token: lockToken, until: lockUntil });
    const instance = toInstance(this.s.getInstance.get(key) as Row);
    const messages = (
      this.s.visibleMessages.all({
        ...key,
        now,
        limit: this.maxMessages,
      }) as Row[]
    ).map((r): StoredMessage => ({
      id: r.id as number,
      instanceId: id,
      executionId: r.execution_id as string | null,
      kind: r.kind as number,
      event: r.event as Uint8Array,
      visibleAt: r.visible_at as number,
    }));
    return { instance, history: this.historyOf(id), messages, lockToken };
  }

  private commitTx(c: OrchestrationCommit): boolean {
    const key = { hub: this.name, id: c.instanceId };
    const row = this.s.getInstance.get(key) as Row | undefined;
    if (!row) return false;
    if (
      c.lockToken === null
        ? row.locked_by !== null
        : row.locked_by !== c.lockToken
    ) {
      return false;
    }

    for (const id of c.consumedMessageIds) this.s.deleteMessage.run({ id });
    if (c.resetHistory) this.s.deleteHistory.run(key);
    c.appendHistory.forEach((event, i) =>
      this.s.insertHistory.run({ ...key, seq: c.historyStart + i, event }),
    );
    for (const a of c.activities) this.insertActivity(a);
    for (const creation of c.creations) {
      if (
        !this.createTx(creation.instance, creation.start) &&
        creation.onConflict
      ) {
        this.enqueueTx(creation.onConflict);
      }
    }
    for (const m of c.messages) this.enqueueTx(m);

    const merged = {
      ...toInstance(row),
      ...c.update,
      hub: this.name,
      historyLength: c.historyStart + c.appendHistory.length,
      newActivities: c.activities.length,
    };
    this.s.writeInstance.run(merged);
    if (c.lockToken === null) this.s.recomputeReady.run(key);
    else this.s.unlockInstance.run({ ...key, token: c.lockToken });
    return true;
  }

  private insertActivity(a: NewActivity): void {
    this.s.insertActivity.run({ hub: this.name, ...a });
  }
}
