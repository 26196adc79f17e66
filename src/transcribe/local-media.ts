/**
 * Media the job can read where it lies: a local path or a `file:` URL.
 */
import { stat } from "node:fs/promises";
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
 * Checks that a local path or `file:` URL names an existing file and
 * returns its absolute path. Nothing is copied: the job reads it in place.
 *
 * @param location A path, or a parsed `file:` URL.
 * @param source What the user gave, for messages.
 * @throws PermanentMediaError when it is missing, unreadable or not a file.
 */
export async function localMedia(
  location: string | URL,
  source: string,
): Promise<string> {
  const file = typeof location === "string" ? location : filePath(location);
  const resolved = path.resolve(file);
  try {
    const info = await stat(resolved);
    if (info.isFile()) return resolved;
  } catch (err) {
    throw new PermanentMediaError(
      `media file ${source} cannot be read: ${(err as Error).message}`,
      "E_MEDIA_NOT_FOUND",
      { cause: err },
    );
  }
  throw new PermanentMediaError(
    `media path ${source} is not a file`,
    "E_MEDIA_NOT_FILE",
  );
}
