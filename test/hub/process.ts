/**
 * Child processes for tests that kill things: the hub CLI and test workers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("../../..", import.meta.url));

/** A running child process with line-based output. */
export interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line matching `re`. */
  line(re: RegExp): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns `node <script> args`; stderr is collected for failure messages. */
export function spawnNode(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, [join(root, script), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const watchers: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: proc.stdout }).on("line", (l) => {
    lines.push(l);
    for (const w of [...watchers]) {
      const m = w.re.exec(l);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    proc,
    exited,
    line: (re) =>
      new Promise((resolve, reject) => {
        const seen = lines.map((l) => re.exec(l)).find((m) => m);
        if (seen) return resolve(seen);
        watchers.push({ re, resolve });
        void exited.then((code) =>
          reject(
            new Error(`${script} exited (${code}) before ${re}: ${stderr}`),
          ),
        );
      }),
    kill: (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** Starts `durascribe hub` on a store; resolves once it listens. */
export async function spawnHub(
  store: string,
  port = 0,
): Promise<{ child: Child; address: string; port: number }> {
  const child = spawnNode("bin/durascribe.js", [
    "hub",
    "--port",
    String(port),
    "--store",
    store,
    "--log-level",
    "error",
    // Hub tests run several hubs at once: none takes the dashboard's port.
    "--no-dashboard",
  ]);
  const m = await child.line(/^hub listening on (.+):(\d+)$/);
  return { child, address: `${m[1]}:${m[2]}`, port: Number(m[2]) };
}
