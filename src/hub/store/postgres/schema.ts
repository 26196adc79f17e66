/**
 * Numbered migrations of the PostgreSQL schema. They run in one transaction
 * under an advisory lock, so hubs starting together migrate once. A
 * migration is never edited once released: add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: instances, history, inbox, activities, and the live hub processes.
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
    failure BYTEA,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT,
    scheduled_start_at BIGINT,
    parent_instance_id TEXT,
    tags TEXT,
    locked_by TEXT,
    locked_until BIGINT,
    ready_at BIGINT,
    history_length INTEGER NOT NULL DEFAULT 0,
    pending_activities INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hub, instance_id)
  );
  CREATE INDEX instances_ready ON instances (hub, ready_at)
    WHERE ready_at IS NOT NULL;
  CREATE INDEX instances_parent ON instances (hub, parent_instance_id)
    WHERE parent_instance_id IS NOT NULL;
  CREATE INDEX instances_created ON instances (hub, created_at);
  CREATE INDEX instances_locked ON instances (locked_by)
    WHERE locked_by IS NOT NULL;

  CREATE TABLE history (
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event BYTEA NOT NULL,
    PRIMARY KEY (hub, instance_id, seq)
  );

  CREATE TABLE inbox (
    id BIGSERIAL PRIMARY KEY,
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    kind INTEGER NOT NULL,
    event BYTEA NOT NULL,
    visible_at BIGINT NOT NULL
  );
  CREATE INDEX inbox_instance ON inbox (hub, instance_id, visible_at);

  CREATE TABLE activities (
    id BIGSERIAL PRIMARY KEY,
    hub TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    request BYTEA NOT NULL,
    visible_at BIGINT NOT NULL,
    locked_by TEXT
  );
  CREATE INDEX activities_visible ON activities (hub, visible_at);
  CREATE INDEX activities_instance ON activities (hub, instance_id);
  CREATE INDEX activities_locked ON activities (locked_by)
    WHERE locked_by IS NOT NULL;

  -- Hub processes and their heartbeats: locks held by a process that
  -- stopped beating are released by the others.
  CREATE TABLE hub_processes (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
  );
  `,
];
