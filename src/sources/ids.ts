/**
 * Stable ids and safe base names for sources.
 */
import { createHash } from "node:crypto";

/** Eight hex digits of SHA-256 over `text`. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * A name safe as a file or blob name: letters, digits, `.`, `_` and `-`;
 * any other run of characters becomes one `-`.
 */
export function safeName(text: string, fallback = "media"): string {
  const name = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 80);
  return name || fallback;
}

/** A file or URL path segment without its extension. */
export function stem(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/** The id of a source that is not a session: `<name>-<hash of where>`. */
export function sourceId(name: string, where: string): string {
  return `${safeName(name).toLowerCase()}-${shortHash(where)}`;
}
