import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../../src/hub/store/sqlite/sqlite-store.js";
import { storeKind, tempDir } from "./helpers.js";

const skip = storeKind !== "sqlite" && "SQLite only";

test(
  "a second hub cannot open a SQLite file another hub holds",
  { skip },
  async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const path = join(dir, "hub.db");
    const first = openSqliteStore(path);
    t.after(() => first.close());
    assert.throws(
      () => openSqliteStore(path),
      /is another hub using this file\?/,
    );
  },
);

test("the file opens again once its hub has closed it", { skip }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, "hub.db");
  await openSqliteStore(path).close();
  const again = openSqliteStore(path);
  await again.close();
});
