/**
 * The PostgreSQL test support itself: the cluster answers, and throwaway
 * databases can be made, used and dropped.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { freshDatabase, postgresAdminUrl } from "./postgres.js";

/** A connected client that the test context ends. */
async function connect(
  t: { after(fn: () => Promise<void>): void },
  url: string,
): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  t.after(() => client.end().catch(() => {}));
  return client;
}

test("the admin URL answers SELECT 1", async (t) => {
  const url = await postgresAdminUrl();
  assert.match(url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  assert.equal(await postgresAdminUrl(), url, "cached for the process");
  const client = await connect(t, url);
  const { rows } = await client.query<{ one: number }>("SELECT 1 AS one");
  assert.deepEqual(rows, [{ one: 1 }]);
});

test("a fresh database can be created, used and dropped", async (t) => {
  const db = await freshDatabase();
  t.after(() => db.drop());
  assert.match(db.name, /^durascribe_test_[0-9a-f]+$/);
  assert.ok(db.url.endsWith(`/${db.name}`), db.url);

  const client = new pg.Client({ connectionString: db.url });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows: here } = await client.query<{ db: string }>(
      "SELECT current_database() AS db",
    );
    assert.equal(here[0]?.db, db.name);
    await client.query("CREATE TABLE t (id int PRIMARY KEY, body text)");
    await client.query("INSERT INTO t VALUES ($1, $2), ($3, $4)", [
      1,
      "one",
      2,
      "two",
    ]);
    const { rows } = await client.query<{ id: number; body: string }>(
      "SELECT id, body FROM t ORDER BY id",
    );
    assert.deepEqual(rows, [
      { id: 1, body: "one" },
      { id: 2, body: "two" },
    ]);
  } finally {
    await client.end();
  }

  // drop() must also end sessions still connected to the database.
  const lingering = new pg.Client({ connectionString: db.url });
  lingering.on("error", () => {});
  await lingering.connect();
  t.after(() => lingering.end().catch(() => {}));

  await db.drop();
  await db.drop(); // idempotent

  const admin = await connect(t, await postgresAdminUrl());
  const { rows: left } = await admin.query(
    "SELECT 1 FROM pg_database WHERE datname = $1",
    [db.name],
  );
  assert.equal(left.length, 0, `${db.name} still in pg_database`);
});
