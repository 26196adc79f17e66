/**
 * Shared pieces of the runner tests: the fake job's command and media
 * files that tell it what to do.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type {
  ExecutionState,
  ExecutionStatus,
  JobRunner,
} from "../../src/runners/runner.js";

/** `node dist/test/fixtures/fake-job.js`. */
export const FAKE_JOB = [
  process.execPath,
  fileURLToPath(new URL("../fixtures/fake-job.js", import.meta.url)),
];

/** Writes a media file for the fake job that behaves as told. */
export function fakeMedia(
  dir: string,
  name: string,
  behaviour: { behaviour?: string; ms?: number; failFirst?: number },
): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(behaviour));
  return file;
}

/** The job environment for `media`, writing to `file:<out>`. */
export function jobEnv(
  media: string,
  out: string,
  base = path.basename(media).replace(/\.[^.]*$/, ""),
): Record<string, string> {
  return {
    VIDEO_URL: media,
    STORAGE_ACCOUNT_URL: `file:${out}`,
    STORAGE_CONTAINER_NAME: "videos",
    STORAGE_BLOB_NAME: base,
  };
}

/**
 * Polls `runner.status(name)` until its state is one of `states`. Runners
 * offer no change notification, so polling is their real interface.
 */
export async function waitForState(
  runner: JobRunner,
  name: string,
  states: readonly ExecutionState[],
  timeoutMs = 20_000,
): Promise<ExecutionStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await runner.status(name);
    if (states.includes(s.state)) return s;
    if (Date.now() > deadline) {
      throw new Error(
        `execution ${name} still ${s.state}, not ${states.join("|")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
