/**
 * The shared store: PostgreSQL, for several hub processes on one database.
 * Work items are taken with row locks (FOR UPDATE SKIP LOCKED) plus lock
 * expiry; hubs wake each other with LISTEN/NOTIFY; each hub process beats a
 * heartbeat, and the locks of a process that stopped beating are released by
 * the others.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
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
  WakeListener,
} from "../store.js";
import { MIGRATIONS } from "./schema.js";
import { EventKind, isTerminal } from "../../protocol.js";
import { holdUntil, type BatchPolicy } from "../../dispatch/batching.js";

/** Options of the PostgreSQL store; also read from the URL's query. */
export interface PostgresStoreOptions {
  /** Heartbeat interval of this hub process (`heartbeat_ms`). */
  heartbeatMs?: number;
  /** A process silent this long is dead and its locks go (`dead_after_ms`). */
  deadAfterMs?: number;
  /** Connections in the pool (`pool_size`). */
  poolSize?: number;
  /** Most inbox rows handed to one work item. */
  maxMessagesPerWorkItem?: number;
}

type Row = Record<string, unknown>;
type Q = pg.PoolClient | pg.Pool;

const CHANNEL = "durascribe_wake";
const MIGRATION_LOCK = 7_271_828;
const TERMINAL = [1, 3, 4, 5];

/** Opens a PostgreSQL store, migrating its schema first. */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  const { connectionString, fromUrl } = splitOptions(url);
  const opts = { ...fromUrl, ...options };
  const pool = new pg.Pool({
    connectionString,
    max: opts.poolSize ?? 10,
    types: { getTypeParser: typeParser },
  });
  pool.on("error", () => {
    // An idle client died (e.g. the server restarted); the pool replaces it.
  });
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot open store ${redact(url)}: ${reason}`);
  }
  const store = new PostgresStore(pool, connectionString, url, opts);
  await store.start();
  return store;
}

/** BIGINT and BIGSERIAL columns hold epoch milliseconds and row ids. */
function typeParser(oid: number, format?: string): (v: string) => unknown {
  if (oid === 20) return Number;
  return pg.types.getTypeParser(oid, format as "text") as (
    v: string,
  ) => unknown;
}

function splitOptions(url: string): {
  connectionString: string;
  fromUrl: PostgresStoreOptions;
} {
  const u = new URL(url);
  const num = (name: string): number | undefined => {
    const v = u.searchParams.get(name);
    u.searchParams.delete(name);
    if (v === null) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(
        `store URL option ${name}="${v}" is not a positive number`,
      );
    }
    return n;
  };
  const fromUrl = {
    heartbeatMs: num("heartbeat_ms"),
    deadAfterMs: num("dead_after_ms"),
    poolSize: num("pool_size"),
  };
  return { connectionString: u.toString(), fromUrl };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

async function migrate(pool: pg.Pool): Promise<void> {
  await transaction(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await c.query(`CREATE TABLE IF NOT EXISTS durascribe_migrations (
      version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const r = await c.query(
      "SELECT COALESCE(MAX(version), 0) AS v FROM durascribe_migrations",
    );
    const current = Number((r.rows[0] as Row).v);
    if (current > MIGRATIONS.length) {
      throw new Error(
        `schema version ${current} is newer than this durascribe (${MIGRATIONS.length}); upgrade durascribe`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await c.query(MIGRATIONS[v]!);
      await c.query("INSERT INTO durascribe_migrations (version) VALUES ($1)", [
        v + 1,
      ]);
    }
  });
}

/** Runs `fn` in a transaction, retrying deadlocks and serialization failures. */
async function transaction<T>(
  pool: pg.Pool,
  fn: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      const result = await fn(c);
      await c.query("COMMIT");
      return result;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => undefined);
      const code = (err as { code?: string }).code;
      if ((code === "40P01" || code === "40001") && attempt < 8) continue;
      throw err;
    } finally {
      c.release();
    }
  }
}

class PostgresStore implements Store {
  readonly description: string;
  readonly pollMs = 2000;
  private readonly processId = randomBytes(6).toString("base64url");
  private readonly hubs = new Map<string, PostgresTaskHub>();
  private readonly listeners: WakeListener[] = [];
  private listener: pg.Client | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    url: string,
    private readonly opts: PostgresStoreOptions,
  ) {
    this.description = redact(url);
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.deadAfterMs = opts.deadAfterMs ?? 4 * this.heartbeatMs;
  }

  async start(): Promise<void> {
    const now = Date.now();
    await this.pool.query(
      "INSERT INTO hub_processes (id, started_at, heartbeat_at) VALUES ($1, $2, $2)",
      [this.processId, now],
    );
    await this.listen();
    this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  taskHub(name: string): TaskHubStore {
    let hub = this.hubs.get(name);
    if (!hub) {
      hub = new PostgresTaskHub(
        this.pool,
        name,
        this.processId,
        this.opts.maxMessagesPerWorkItem ?? 10_000,
      );
      this.hubs.set(name, hub);
    }
    return hub;
  }

  subscribe(listener: WakeListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    await this.pool
      .query("DELETE FROM hub_processes WHERE id = $1", [this.processId])
      .catch(() => undefined);
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on("error", () => {
      // Reconnected below; polling covers the gap.
      if (!this.closed) {
        setTimeout(() => void this.listen().catch(() => undefined), 1000);
      }
    });
    client.on("notification", (n) => {
      const [from, hub, at, instanceId] = (n.payload ?? "").split("\t");
      if (from === this.processId || !hub) return;
      // "*": locks were released; every task hub open here may have work.
      const names = hub === "*" ? [...this.hubs.keys()] : [hub];
      for (const name of names) {
        for (const l of this.listeners) l(name, Number(at), instanceId);
      }
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    const old = this.listener;
    this.listener = client;
    await old?.end().catch(() => undefined);
  }

  /** Beats this process's heartbeat and frees the locks of dead processes. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    try {
      await this.pool.query(
        "UPDATE hub_processes SET heartbeat_at = $2 WHERE id = $1",
        [this.processId, now],
      );
      const dead = await this.pool.query(
        "DELETE FROM hub_processes WHERE heartbeat_at < $1 RETURNING id",
        [now - this.deadAfterMs],
      );
      for (const row of dead.rows as Row[]) {
        await releaseLocksOf(this.pool, row.id as string, now);
      }
    } catch {
      // The database is unreachable; the next beat tries again.
    }
  }
}

/** Releases every lock held by a hub process, making its work visible now. */
async function releaseLocksOf(
  pool: pg.Pool,
  processId: string,
  now: number,
): Promise<void> {
  const prefix = `${processId}.%`;
  await pool.query(
    `UPDATE instances i SET locked_by = NULL, locked_until = NULL,
       ready_at = (SELECT MIN(visible_at) FROM inbox m
                   WHERE m.hub = i.hub AND m.instance_id = i.instance_id)
     WHERE locked_by LIKE $1`,
    [prefix],
  );
  await pool.query(
    "UPDATE activities SET locked_by = NULL, visible_at = $2 WHERE locked_by LIKE $1",
    [prefix, now],
  );
  await pool.query("SELECT pg_notify($1, $2)", [
    CHANNEL,
    `released\t*\t${now}`,
  ]);
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

/** WHERE terms with numbered parameters; `add` turns `?` into the next. */
interface FilterSql {
  where: string[];
  params: unknown[];
  add(sql: string, value: unknown): void;
}

/** The WHERE terms and parameters every instance query shares. */
function filterSql(hub: string, f: InstanceCountFilter): FilterSql {
  const q: FilterSql = {
    where: ["hub = $1"],
    params: [hub],
    add(sql, value) {
      q.params.push(value);
      q.where.push(sql.replace("?", `$${q.params.length}`));
    },
  };
  if (f.createdFrom !== undefined) q.add("created_at >= ?", f.createdFrom);
  if (f.createdTo !== undefined) q.add("created_at <= ?", f.createdTo);
  if (f.completedFrom !== undefined) {
    q.add("completed_at >= ?", f.completedFrom);
  }
  if (f.completedTo !== undefined) q.add("completed_at <= ?", f.completedTo);
  if (f.instanceIdPrefix) {
    q.add("starts_with(instance_id, ?)", f.instanceIdPrefix);
  }
  if (f.name) q.add("name = ?", f.name);
  if (f.parentInstanceId === null) q.where.push("parent_instance_id IS NULL");
  else if (f.parentInstanceId !== undefined) {
    q.add("parent_instance_id = ?", f.parentInstanceId);
  }
  return q;
}

const bytes = (b: Uint8Array): Buffer =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength);

class PostgresTaskHub implements TaskHubStore {
  private counter = 0;

  constructor(
    private readonly pool: pg.Pool,
    readonly name: string,
    private readonly processId: string,
    private readonly maxMessages: number,
  ) {}

  async createInstance(
    instance: InstanceRecord,
    start: NewMessage,
  ): Promise<boolean> {
    try {
      return await transaction(this.pool, (c) =>
        this.createTx(c, instance, start),
      );
    } catch (err) {
      // Two creators raced on the same id: the other one won.
      if ((err as { code?: string }).code === "23505") return false;
      throw err;
    }
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const r = await this.pool.query(
      "SELECT * FROM instances WHERE hub = $1 AND instance_id = $2",
      [this.name, instanceId],
    );
    const row = r.rows[0] as Row | undefined;
    return row ? toInstance(row) : undefined;
  }

  async getHistory(
    instanceId: string,
    range?: HistoryRange,
  ): Promise<Uint8Array[]> {
    const r = range
      ? await this.pool.query(
          `SELECT event FROM history WHERE hub = $1 AND instance_id = $2 AND seq >= $3
           ORDER BY seq LIMIT $4`,
          [this.name, instanceId, range.offset, range.limit],
        )
      : await this.pool.query(
          "SELECT event FROM history WHERE hub = $1 AND instance_id = $2 ORDER BY seq",
          [this.name, instanceId],
        );
    return (r.rows as Row[]).map((x) => x.event as Uint8Array);
  }

  async enqueue(messages: NewMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await transaction(this.pool, (c) => this.enqueueTx(c, messages));
  }

  /**
   * Claims without an explicit transaction, in three round trips: read the
   * candidates (with what the batching policy weighs), lock them with an
   * UPDATE that re-checks readiness (so of two hubs racing for an instance,
   * one gets it), then read their history and messages in one query.
   */
  async claimOrchestrations(
    now: number,
    lockUntil: number,
    limit: number,
    policy?: BatchPolicy,
  ): Promise<ClaimedOrchestration[]> {
    const cand = await this.pool.query(
      `SELECT i.instance_id, i.history_length, i.pending_activities,
         s.messages, s.results, s.oldest
       FROM instances i LEFT JOIN LATERAL (
         SELECT COUNT(*)::int AS messages, MIN(visible_at) AS oldest,
           SUM(CASE WHEN kind IN (${EventKind.TASKCOMPLETED}, ${EventKind.TASKFAILED})
               THEN 1 ELSE 0 END)::int AS results
         FROM inbox m
         WHERE m.hub = i.hub AND m.instance_id = i.instance_id AND m.visible_at <= $2) s
         ON true
       WHERE i.hub = $1 AND i.ready_at <= $2 ORDER BY i.ready_at LIMIT $3`,
      [this.name, now, policy ? limit + 16 : limit],
    );
    let rows = cand.rows as Row[];
    if (policy && rows.length) rows = await this.applyHolds(rows, now, policy);
    rows = rows.slice(0, limit);
    if (rows.length === 0) return [];

    const ids = rows.map((r) => r.instance_id as string);
    const locked = await this.pool.query(
      `UPDATE instances i SET locked_by = t.token, locked_until = $3, ready_at = $3
       FROM unnest($2::text[], $4::text[]) AS t(id, token)
       WHERE i.hub = $1 AND i.instance_id = t.id AND i.ready_at <= $5 RETURNING i.*`,
      [this.name, ids, lockUntil, ids.map(() => this.nextToken()), now],
    );
    const claimed = (locked.rows as Row[]).map((r) => r.instance_id as string);
    if (claimed.length === 0) return [];
    const events = await this.pool.query(
      `SELECT 0 AS part, instance_id, seq AS ord, event, NULL::bigint AS id,
         NULL::text AS execution_id, NULL::int AS kind, NULL::bigint AS visible_at
       FROM history WHERE hub = $1 AND instance_id = ANY($2)
       UNION ALL
       SELECT 1, instance_id, rn, event, id, execution_id, kind, visible_at FROM (
         SELECT *, row_number() OVER (PARTITION BY instance_id
           ORDER BY (kind = ${EventKind.EXECUTIONSTARTED}) DESC, id) AS rn
         FROM inbox WHERE hub = $1 AND instance_id = ANY($2) AND visible_at <= $3) x
       WHERE rn <= $4
       ORDER BY instance_id, part, ord`,
      [this.name, claimed, now, this.maxMessages],
    );
    const byInstance = new Map<string, Row[]>();
    for (const e of events.rows as Row[]) {
      const id = e.instance_id as string;
      let list = byInstance.get(id);
      if (!list) byInstance.set(id, (list = []));
      list.push(e);
    }
    return (locked.rows as Row[]).map((row) => {
      const id = row.instance_id as string;
      const rowsOf = byInstance.get(id) ?? [];
      return {
        instance: toInstance(row),
        lockToken: row.locked_by as string,
        history: rowsOf
          .filter((e) => e.part === 0)
          .map((e) => e.event as Uint8Array),
        messages: rowsOf
          .filter((e) => e.part === 1)
          .map((m): StoredMessage => ({
            id: m.id as number,
            instanceId: id,
            executionId: m.execution_id as string | null,
            kind: m.kind as number,
            event: m.event as Uint8Array,
            visibleAt: m.visible_at as number,
          })),
      };
    });
  }

  async claimActivities(
    now: number,
    lockUntil: number,
    limit: number,
  ): Promise<ClaimedActivity[]> {
    const r = await this.pool.query(
      `WITH c AS (
         SELECT id, visible_at FROM activities WHERE hub = $1 AND visible_at <= $2
         ORDER BY visible_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
       UPDATE activities a SET locked_by = $4 || '.' || a.id, visible_at = $5
       FROM c WHERE a.id = c.id
       RETURNING a.id, a.instance_id, a.execution_id, a.task_id, a.name, a.request,
         a.locked_by, c.visible_at AS ready_at`,
      [this.name, now, limit, this.nextToken(), lockUntil],
    );
    return (r.rows as Row[]).map((row) => ({
      id: row.id as number,
      instanceId: row.instance_id as string,
      executionId: row.execution_id as string,
      taskId: row.task_id as number,
      name: row.name as string,
      request: row.request as Uint8Array,
      visibleAt: lockUntil,
      lockToken: row.locked_by as string,
      readyAt: row.ready_at as number,
    }));
  }

  commit(commit: OrchestrationCommit): Promise<boolean> {
    return transaction(this.pool, (c) => this.commitTx(c, commit));
  }

  completeActivities(completions: ActivityCompletion[]): Promise<boolean[]> {
    return transaction(this.pool, async (c) => {
      const gone = await c.query(
        `DELETE FROM activities a USING unnest($1::bigint[], $2::text[]) AS t(id, token)
         WHERE a.id = t.id AND a.locked_by = t.token RETURNING a.id`,
        [
          completions.map((x) => x.activityId),
          completions.map((x) => x.lockToken),
        ],
      );
      const done = new Set((gone.rows as Row[]).map((r) => r.id as number));
      const ok = completions.filter((x) => done.has(x.activityId));
      if (ok.length) {
        await c.query(
          `UPDATE instances i SET pending_activities = GREATEST(0, i.pending_activities - t.n)
           FROM (SELECT id, COUNT(*)::int AS n FROM unnest($2::text[]) AS id GROUP BY id) t
           WHERE i.hub = $1 AND i.instance_id = t.id`,
          [this.name, ok.map((x) => x.message.instanceId)],
        );
        await this.enqueueTx(
          c,
          ok.map((x) => x.message),
        );
      }
      return completions.map((x) => done.has(x.activityId));
    });
  }

  async releaseOrchestration(
    instanceId: string,
    lockToken: string,
  ): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE instances SET locked_by = NULL, locked_until = NULL,
         ready_at = (SELECT MIN(visible_at) FROM inbox WHERE hub = $1 AND instance_id = $2)
       WHERE hub = $1 AND instance_id = $2 AND locked_by = $3`,
      [this.name, instanceId, lockToken],
    );
    return r.rowCount === 1;
  }

  async releaseActivity(
    activityId: number,
    lockToken: string,
    visibleAt: number,
  ): Promise<boolean> {
    const r = await this.pool.query(
      "UPDATE activities SET locked_by = NULL, visible_at = $3 WHERE id = $1 AND locked_by = $2",
      [activityId, lockToken, visibleAt],
    );
    return r.rowCount === 1;
  }

  async nextWakeAt(now: number): Promise<number | undefined> {
    const r = await this.pool.query(
      `SELECT LEAST(
         (SELECT MIN(ready_at) FROM instances WHERE hub = $1 AND ready_at > $2),
         (SELECT MIN(visible_at) FROM activities WHERE hub = $1 AND visible_at > $2)) AS t`,
      [this.name, now],
    );
    const t = (r.rows[0] as Row).t;
    return typeof t === "number" ? t : undefined;
  }

  async listInstances(f: InstanceFilter): Promise<InstanceRecord[]> {
    const q = filterSql(this.name, f);
    if (f.statuses?.length) q.add("status = ANY(?)", f.statuses);
    let order = 'instance_id COLLATE "C"';
    if (f.order === "newest") {
      order = 'created_at DESC, instance_id COLLATE "C" DESC';
      if (f.before) {
        q.params.push(f.before.createdAt, f.before.instanceId);
        const at = `$${q.params.length - 1}`;
        const id = `$${q.params.length}`;
        q.where.push(
          `(created_at < ${at} OR (created_at = ${at} AND instance_id COLLATE "C" < ${id}))`,
        );
      }
    } else if (f.after !== undefined) {
      q.add('instance_id > ? COLLATE "C"', f.after);
    }
    q.params.push(f.limit);
    const r = await this.pool.query(
      `SELECT ${f.withPayloads === false ? SUMMARY_COLUMNS : "*"} FROM instances WHERE ${q.where.join(" AND ")}
       ORDER BY ${order} LIMIT $${q.params.length}`,
      q.params,
    );
    return (r.rows as Row[]).map(toInstance);
  }

  async countInstances(f: InstanceCountFilter): Promise<StatusCount[]> {
    const q = filterSql(this.name, f);
    const r = await this.pool.query(
      `SELECT status, COUNT(*)::int AS n FROM instances WHERE ${q.where.join(" AND ")}
       GROUP BY status ORDER BY status`,
      q.params,
    );
    return (r.rows as Row[]).map((x) => ({
      status: x.status as number,
      count: x.n as number,
    }));
  }

  async childrenOf(instanceIds: string[]): Promise<string[]> {
    const r = await this.pool.query(
      "SELECT instance_id FROM instances WHERE hub = $1 AND parent_instance_id = ANY($2)",
      [this.name, instanceIds],
    );
    return (r.rows as Row[]).map((x) => x.instance_id as string);
  }

  purge(instanceIds: string[]): Promise<number> {
    return transaction(this.pool, async (c) => {
      const r = await c.query(
        `DELETE FROM instances WHERE hub = $1 AND instance_id = ANY($2) AND status = ANY($3)
         RETURNING instance_id`,
        [this.name, instanceIds, TERMINAL],
      );
      const gone = (r.rows as Row[]).map((x) => x.instance_id as string);
      if (gone.length) await this.deleteRowsOf(c, gone);
      return gone.length;
    });
  }

  private nextToken(): string {
    this.counter++;
    return `${this.processId}.${this.counter.toString(36)}`;
  }

  private async applyHolds(
    rows: Row[],
    now: number,
    policy: BatchPolicy,
  ): Promise<Row[]> {
    const keep: Row[] = [];
    const held: { id: string; until: number }[] = [];
    for (const row of rows) {
      const until =
        row.messages === 0
          ? undefined
          : holdUntil(
              {
                messages: row.messages as number,
                results: row.results as number,
                oldest: row.oldest as number,
                pendingActivities: row.pending_activities as number,
                historyLength: row.history_length as number,
              },
              now,
              policy,
            );
      if (until === undefined) keep.push(row);
      else held.push({ id: row.instance_id as string, until });
    }
    if (held.length) {
      await this.pool.query(
        `UPDATE instances i SET ready_at = t.until
         FROM unnest($2::text[], $3::bigint[]) AS t(id, until)
         WHERE i.hub = $1 AND i.instance_id = t.id AND i.locked_by IS NULL`,
        [this.name, held.map((h) => h.id), held.map((h) => h.until)],
      );
    }
    return keep;
  }

  private async deleteRowsOf(c: Q, ids: string[]): Promise<void> {
    for (const table of ["history", "inbox", "activities"]) {
      await c.query(
        `DELETE FROM ${table} WHERE hub = $1 AND instance_id = ANY($2)`,
        [this.name, ids],
      );
    }
  }

  private async createTx(
    c: Q,
    instance: InstanceRecord,
    start: NewMessage,
  ): Promise<boolean> {
    const existing = await c.query(
      "SELECT status FROM instances WHERE hub = $1 AND instance_id = $2 FOR UPDATE",
      [this.name, instance.instanceId],
    );
    const row = existing.rows[0] as Row | undefined;
    if (row) {
      if (!isTerminal(row.status as number)) return false;
      await c.query(
        "DELETE FROM instances WHERE hub = $1 AND instance_id = $2",
        [this.name, instance.instanceId],
      );
      await this.deleteRowsOf(c, [instance.instanceId]);
    }
    const i = instance;
    await c.query(
      `INSERT INTO instances (hub, instance_id, name, version, status, execution_id, input,
         output, custom_status, failure, created_at, updated_at, completed_at,
         scheduled_start_at, parent_instance_id, tags)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        this.name,
        i.instanceId,
        i.name,
        i.version,
        i.status,
        i.executionId,
        i.input,
        i.output,
        i.customStatus,
        i.failure && bytes(i.failure),
        i.createdAt,
        i.updatedAt,
        i.completedAt,
        i.scheduledStartAt,
        i.parentInstanceId,
        i.tags,
      ],
    );
    await this.enqueueTx(c, [start]);
    return true;
  }

  /** Inserts messages for existing instances, marks them ready, wakes hubs. */
  private async enqueueTx(c: Q, messages: NewMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await c.query(
      `WITH ins AS (
         INSERT INTO inbox (hub, instance_id, execution_id, kind, event, visible_at)
         SELECT $1, t.iid, t.eid, t.kind, t.ev, t.vis
         FROM unnest($2::text[], $3::text[], $4::int[], $5::bytea[], $6::bigint[])
           AS t(iid, eid, kind, ev, vis)
         WHERE EXISTS (SELECT 1 FROM instances i WHERE i.hub = $1 AND i.instance_id = t.iid)
         RETURNING instance_id, visible_at)
       UPDATE instances i
       SET ready_at = LEAST(COALESCE(i.ready_at, 9e15::bigint),
                            GREATEST(m.v, COALESCE(i.locked_until, 0)))
       FROM (SELECT instance_id, MIN(visible_at) AS v FROM ins GROUP BY instance_id) m
       WHERE i.hub = $1 AND i.instance_id = m.instance_id`,
      [
        this.name,
        messages.map((m) => m.instanceId),
        messages.map((m) => m.executionId),
        messages.map((m) => m.kind),
        messages.map((m) => bytes(m.event)),
        messages.map((m) => m.visibleAt),
      ],
    );
    const at = Math.min(...messages.map((m) => m.visibleAt));
    await this.notify(c, at);
  }

  private async notify(c: Q, at: number, instanceId = ""): Promise<void> {
    await c.query("SELECT pg_notify($1, $2)", [
      CHANNEL,
      `${this.processId}\t${this.name}\t${at}\t${instanceId}`,
    ]);
  }

  private async commitTx(c: Q, k: OrchestrationCommit): Promise<boolean> {
    const cur = await c.query(
      "SELECT * FROM instances WHERE hub = $1 AND instance_id = $2 FOR UPDATE",
      [this.name, k.instanceId],
    );
    const row = cur.rows[0] as Row | undefined;
    if (!row) return false;
    if (
      k.lockToken === null
        ? row.locked_by !== null
        : row.locked_by !== k.lockToken
    ) {
      return false;
    }

    if (k.consumedMessageIds.length) {
      await c.query("DELETE FROM inbox WHERE id = ANY($1::bigint[])", [
        k.consumedMessageIds,
      ]);
    }
    if (k.resetHistory) {
      await c.query("DELETE FROM history WHERE hub = $1 AND instance_id = $2", [
        this.name,
        k.instanceId,
      ]);
    }
    if (k.appendHistory.length) {
      await c.query(
        `INSERT INTO history (hub, instance_id, seq, event)
         SELECT $1, $2, $3 + t.n - 1, t.ev FROM unnest($4::bytea[]) WITH ORDINALITY AS t(ev, n)`,
        [this.name, k.instanceId, k.historyStart, k.appendHistory.map(bytes)],
      );
    }
    if (k.activities.length) await this.insertActivities(c, k.activities);
    for (const creation of k.creations) {
      if (
        !(await this.createTx(c, creation.instance, creation.start)) &&
        creation.onConflict
      ) {
        await this.enqueueTx(c, [creation.onConflict]);
      }
    }
    await this.enqueueTx(c, k.messages);

    const m = { ...toInstance(row), ...k.update };
    await c.query(
      `UPDATE instances SET status = $3, execution_id = $4, input = $5, output = $6,
         custom_status = $7, failure = $8, updated_at = $9, completed_at = $10,
         history_length = $11, pending_activities = pending_activities + $12,
         locked_by = NULL, locked_until = NULL,
         ready_at = (SELECT MIN(visible_at) FROM inbox WHERE hub = $1 AND instance_id = $2)
       WHERE hub = $1 AND instance_id = $2`,
      [
        this.name,
        k.instanceId,
        m.status,
        m.executionId,
        m.input,
        m.output,
        m.customStatus,
        m.failure && bytes(m.failure),
        m.updatedAt,
        m.completedAt,
        k.historyStart + k.appendHistory.length,
        k.activities.length,
      ],
    );
    // Wakes hubs with new activities, and callers waiting on this instance.
    await this.notify(c, k.update.updatedAt, k.instanceId);
    return true;
  }

  private async insertActivities(c: Q, list: NewActivity[]): Promise<void> {
    await c.query(
      `INSERT INTO activities (hub, instance_id, execution_id, task_id, name, request, visible_at)
       SELECT $1, t.iid, t.eid, t.tid, t.name, t.req, t.vis
       FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::bytea[], $7::bigint[])
         AS t(iid, eid, tid, name, req, vis)`,
      [
        this.name,
        list.map((a) => a.instanceId),
        list.map((a) => a.executionId),
        list.map((a) => a.taskId),
        list.map((a) => a.name),
        list.map((a) => bytes(a.request)),
        list.map((a) => a.visibleAt),
      ],
    );
  }
}
