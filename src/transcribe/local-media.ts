/**
 * Media the job can read where it lies: a local path or a `file:` URL.
 */
import { stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { PermanentMediaError } from "../errors.js";

function filePath(url: URL): string {
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw new PermanentMediaError(
      `media URL ${url.href} is not a local file path: ${(err as Error).message}`,
      "E_FETCH_SCHEME",
      { cause: err },
    );
  }
}

/**
 * Checks that a local path or `file:` URL names an existing file within
 * the size cap and returns its absolute path. Nothing is copied: the job
 * reads it in place.
 *
 * @param location A path, or a parsed `file:` URL.
 * @param source What the user gave, for messages.
 * @param maxBytes The size cap, as for downloads.
 * @throws PermanentMediaError when it is missing, unreadable, not a file,
 *   or larger than `maxBytes`.
 */
export async function localMedia(
  location: string | URL,
  source: string,
  maxBytes = Infinity,
): Promise<string> {
  const file = typeof location === "string" ? location : filePath(location);
  const resolved = path.resolve(file);
  let info: Stats;
  try {
    info = await stat(resolved);
  } catch (err) {
    throw new PermanentMediaError(
      `media file ${source} cannot be read: ${(err as Error).message}`,
      "E_MEDIA_NOT_FOUND",
      { cause: err },
    );
  }
  if (!info.isFile()) {
    throw new PermanentMediaError(
      `media path ${source} is not a file`,
      "E_MEDIA_NOT_FILE",
    );
  }
  if (info.size > maxBytes) {
    throw new PermanentMediaError(
      `media file ${source} is larger than the limit of ${maxBytes} bytes (it is ${info.size} bytes; DURASCRIBE_MAX_BYTES sets the limit)`,
      "E_MEDIA_TOO_LARGE",
    );
  }
  return resolved;
}
