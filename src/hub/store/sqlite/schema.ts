/**
 * Numbered migrations of the SQLite schema, applied in order and recorded in
 * `PRAGMA user_version`. A migration is never edited once released: add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: instances, history, inbox, activities.
  `
  CREATE TABLE instances (
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    status INTEGER NOT NULL,
    execution_id TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    failure BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    completed_at INTEGER,
    scheduled_start_at INTEGER,
    parent_instance_id TEXT,
    tags TEXT,
    locked_by TEXT,
    locked_until INTEGER,
    -- Earliest time the instance has a visible inbox row and no live lock.
    ready_at INTEGER,
    -- Events in history, and activities scheduled and not yet finished:
    -- what the batching policy weighs.
    history_length INTEGER NOT NULL DEFAULT 0,
    pending_activities INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hub, instance_id)
  ) WITHOUT ROWID;
  CREATE INDEX instances_ready ON instances (hub, ready_at)
    WHERE ready_at IS NOT NULL;
  CREATE INDEX instances_parent ON instances (hub, parent_instance_id)
    WHERE parent_instance_id IS NOT NULL;
  CREATE INDEX instances_created ON instances (hub, created_at);

  CREATE TABLE history (
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event BLOB NOT NULL,
    PRIMARY KEY (hub, instance_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    kind INTEGER NOT NULL,
    event BLOB NOT NULL,
    visible_at INTEGER NOT NULL
  );
  CREATE INDEX inbox_instance ON inbox (hub, instance_id, visible_at);

  CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    request BLOB NOT NULL,
    -- Visible when not locked; a claim moves it to the lock's expiry.
    visible_at INTEGER NOT NULL,
    locked_by TEXT
  );
  CREATE INDEX activities_visible ON activities (hub, visible_at);
  CREATE INDEX activities_instance ON activities (hub, instance_id);
  `,
];
