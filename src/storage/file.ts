/**
 * A {@link TranscriptStore} on a local folder, for one machine or a shared
 * mount. Writes are atomic: a reader sees the old file or the new one.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";

import { InvalidNameError, type TranscriptStore } from "./store.js";

/** Stores each object as a file under one root folder. */
export class FileTranscriptStore implements TranscriptStore {
  /** Absolute path of the root folder. */
  readonly root: string;

  /** @param root Folder to store under; created on first write. */
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /**
   * Writes `body` to a temporary file beside the target, flushes it to
   * disk and renames it into place. `contentType` is not kept: a file's
   * extension says what it is.
   *
   * @returns The absolute path of the file.
   * @throws InvalidNameError when `name` is absolute or escapes the root.
   */
  async put(
    name: string,
    body: string | Buffer,
    _contentType: string,
  ): Promise<string> {
    const target = this.resolve(name);
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });

    const temp = path.join(
      dir,
      `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`,
    );
    try {
      await writeDurably(temp, body);
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }

    // The rename itself is durable only once the folder entry is flushed.
    await syncFolder(dir);
    return target;
  }

  /**
   * Reads the file stored under `name`.
   *
   * @throws InvalidNameError when `name` is absolute or escapes the root.
   */
  async get(name: string): Promise<Buffer | undefined> {
    const target = this.resolve(name);
    try {
      return await readFile(target);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
  }

  /** The absolute path for `name`, checked to stay inside the root. */
  private resolve(name: string): string {
    if (name === "" || name.includes("\0")) {
      throw new InvalidNameError(name, "it is empty or contains a NUL byte");
    }
    if (path.isAbsolute(name) || path.win32.isAbsolute(name)) {
      throw new InvalidNameError(name, "it is an absolute path");
    }
    if (name.split(/[\\/]/).includes("..")) {
      throw new InvalidNameError(name, 'it contains a ".." segment');
    }

    const target = path.resolve(this.root, name);
    if (!target.startsWith(this.root + path.sep)) {
      throw new InvalidNameError(
        name,
        "it does not name a file inside the store",
      );
    }
    return target;
  }
}

async function writeDurably(
  file: string,
  body: string | Buffer,
): Promise<void> {
  const handle = await open(file, "wx");
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (err) {
    // Some platforms (Windows) and file systems cannot fsync a folder.
    if (!isErrno(err, "EISDIR", "EPERM", "EINVAL", "EBADF")) throw err;
  } finally {
    await handle?.close();
  }
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return (
    err instanceof Error &&
    "code" in err &&
    typeof err.code === "string" &&
    codes.includes(err.code)
  );
}
