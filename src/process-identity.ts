/**
 * Telling whether a process still runs, and is the same process: a pid
 * and the start time the kernel gives it (/proc/<pid>/stat), so that a pid
 * reused by another process is not taken for the one that held it.
 */
import { readFileSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";

/** Whether a process with this pid exists. */
export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether process `pid` exists and, when `start` is given, started at
 * `start` (a value from {@link processStart}).
 */
export function sameProcess(pid: number, start: string | undefined): boolean {
  if (!pidExists(pid)) return false;
  if (start === undefined) return true;
  return processStartSync(pid) === start;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), if readable. */
export async function processStart(
  pid: number | undefined,
): Promise<string | undefined> {
  if (pid === undefined) return undefined;
  try {
    return parseStart(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** {@link processStart}, read synchronously. */
export function processStartSync(pid: number): string | undefined {
  try {
    // Synchronous, so that the check follows kill(pid, 0) with nothing in
    // between; the file is one short line.
    return parseStart(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

function parseStart(stat: string): string | undefined {
  // The command name (field 2) may hold spaces: count from its closing ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19];
}

/** The process that made a file or folder: host, pid and start time. */
export interface Owner {
  host: string;
  pid: number;
  start?: string | undefined;
}

/**
 * Removes the entries of `dir` whose owner (as `ownerOf` reads it from
 * the entry's name) ran on `host` and no longer runs, and returns their
 * paths. Entries with no readable owner, of another host, or of a live
 * process (this one included) stay. Never throws.
 */
export async function removeOrphans(
  dir: string,
  host: string,
  ownerOf: (name: string) => Owner | undefined | Promise<Owner | undefined>,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owner = await ownerOf(name);
    if (owner === undefined || owner.host !== host) continue;
    if (owner.pid === process.pid || sameProcess(owner.pid, owner.start)) {
      continue;
    }
    const entry = path.join(dir, name);
    try {
      await rm(entry, { recursive: true, force: true });
      removed.push(entry);
    } catch {
      // Removed by another process first, or not ours to remove.
    }
  }
  return removed;
}
