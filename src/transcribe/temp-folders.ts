/**
 * The job's temp folders, and reclaiming those of jobs that were killed
 * without a chance to clean up (SIGKILL, an OOM kill, a power cut).
 *
 * Each folder is `durascribe-job-<random>` and holds an `owner.json` with
 * the host name, pid and kernel start time of the process that made it.
 * A folder is stale when it was made on this host by a process that no
 * longer runs (a pid reused by another process does not count as it).
 * Folders without an owner file, or from another host sharing the temp
 * root, are left alone: nothing here can tell whether they are in use.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import {
  processStart,
  removeOrphans,
  type Owner,
} from "../process-identity.js";

/** The name every job temp folder starts with. */
export const TEMP_PREFIX = "durascribe-job-";
const OWNER = "owner.json";

/** Makes a temp folder under `root`, recording this process as its owner. */
export async function makeTempFolder(root: string): Promise<string> {
  const folder = await mkdtemp(path.join(root, TEMP_PREFIX));
  const owner: Owner = {
    host: os.hostname(),
    pid: process.pid,
    start: await processStart(process.pid),
  };
  await writeFile(path.join(folder, OWNER), JSON.stringify(owner));
  return folder;
}

/**
 * Removes the stale temp folders under `root` and returns their paths.
 * Never throws: a folder that cannot be read or removed stays.
 */
export function sweepTempFolders(root: string): Promise<string[]> {
  return removeOrphans(root, os.hostname(), (name) =>
    name.startsWith(TEMP_PREFIX) ? readOwner(path.join(root, name)) : undefined,
  );
}

async function readOwner(folder: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(
      await readFile(path.join(folder, OWNER), "utf8"),
    ) as Partial<Owner>;
    if (typeof o.host !== "string" || !Number.isInteger(o.pid)) {
      return undefined;
    }
    const start = typeof o.start === "string" ? o.start : undefined;
    return { host: o.host, pid: o.pid!, start };
  } catch {
    return undefined;
  }
}
