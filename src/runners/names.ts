/**
 * Execution names derived from a spec's key, so that starting the same
 * spec twice (an activity delivered again) names the same execution.
 */
import { createHash } from "node:crypto";

/**
 * A name made of `[a-z0-9-]` only, at most `max` characters, unique per
 * key: a readable slug of the key plus a short hash of it.
 *
 * @param key The spec's stable key, such as `batch1/v/3#1`.
 * @param max The platform's length limit (Kubernetes: 63).
 */
export function executionName(key: string, max = 63, prefix = ""): string {
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 8);
  const room = Math.max(1, max - hash.length - 1 - prefix.length);
  const slug = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(-room)
    .replace(/^-+/, "");
  return `${prefix}${slug ? `${slug}-` : ""}${hash}`;
}
