/**
 * Opens the store a `--store` value names.
 */
import { parseStore } from "../../config.js";
import { openPostgresStore } from "./postgres/postgres-store.js";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

/** Opens `sqlite:<path>` or `postgres://...`. */
export async function openStore(spec: string): Promise<Store> {
  const parsed = parseStore(spec);
  return parsed.kind === "sqlite"
    ? openSqliteStore(parsed.path)
    : openPostgresStore(parsed.url);
}
