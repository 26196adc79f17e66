/**
 * Helpers of the job tests: the job run as a real child process
 * (`node bin/durascribe.js job`, from the build in dist/), media served
 * from a real HTTP server, and the manifest watched as it changes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { watch } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import path from "node:path";

import type { JobManifest } from "../../src/transcribe/manifest.js";
import { CLI } from "../support/cli.js";

export { CLI };

/** How a child process ended, and what it printed. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A started job process. */
export interface JobProcess {
  child: ChildProcess;
  exited: Promise<Exit>;
}

/**
 * Starts `durascribe <args>` with exactly `env` (plus PATH), so nothing
 * from the test's own environment leaks into the job's configuration.
 */
export function startCli(
  args: string[],
  env: Record<string, string>,
): JobProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once("close", (code, signal) =>
      resolve({ code, signal, stdout, stderr }),
    ),
  );
  return { child, exited };
}

/** Runs `durascribe job` with `env` to its end. */
export function runJobProcess(env: Record<string, string>): Promise<Exit> {
  return startCli(["job"], env).exited;
}

/** The lines of stderr that are not log records: the error line. */
export function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("durascribe:"));
}

/** Reads a manifest written by the file store. */
export async function readManifest(file: string): Promise<JobManifest> {
  return JSON.parse(await readFile(file, "utf8")) as JobManifest;
}

/**
 * Resolves with the manifest at `file` once `ready` holds for it,
 * re-reading it each time its folder changes (the file store renames
 * every new version into place, which the watch reports).
 */
export function manifestWhen(
  file: string,
  ready: (m: JobManifest) => boolean,
): Promise<JobManifest> {
  return new Promise((resolve, reject) => {
    let done = false;
    const watcher = watch(path.dirname(file), () => void check());
    const check = async (): Promise<void> => {
      const manifest = await readManifest(file).catch(() => undefined);
      if (done || manifest === undefined || !ready(manifest)) return;
      done = true;
      watcher.close();
      resolve(manifest);
    };
    watcher.on("error", reject);
    void check();
  });
}

/** Files in `dir` and below, as relative paths, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Answers with `body`, honouring a `Range: bytes=N-` request. */
export function sendMedia(
  res: ServerResponse,
  body: Buffer,
  range: string | undefined,
  type = "video/mp4",
): void {
  const start = Number(/^bytes=(\d+)-$/.exec(range ?? "")?.[1] ?? 0);
  const headers = { "content-type": type, "accept-ranges": "bytes" };
  if (start > 0) {
    res.writeHead(206, {
      ...headers,
      "content-length": body.length - start,
      "content-range": `bytes ${start}-${body.length - 1}/${body.length}`,
    });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { ...headers, "content-length": body.length });
  res.end(body);
}
