/**
 * Whole-system test pieces: `durascribe run` as a child process over real
 * media, the real job (ffmpeg, whisper.cpp) and a Build API stand-in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";

import { defaultModelsDir } from "../../src/models/cache.js";
import { writeEmptyModel } from "../support/empty-model.js";
import { CLI as cli } from "../support/cli.js";

/** The real tiny.en when it is cached here, else an empty model (no text). */
export async function testModel(
  dir: string,
): Promise<{ model: string; real: boolean }> {
  // Where test/support/prepare-assets.ts puts it before the suite.
  const cached = path.join(
    process.env.DURASCRIBE_MODELS_DIR ?? defaultModelsDir(),
    "ggml-tiny.en.bin",
  );
  if (existsSync(cached)) return { model: cached, real: true };
  const file = path.join(dir, "empty-model.bin");
  await writeEmptyModel(file);
  return { model: file, real: false };
}

/** A running `durascribe run`. */
export interface RunProcess {
  proc: ChildProcess;
  /** Resolves with the first stderr line matching `re`. */
  line(re: RegExp): Promise<string>;
  /** Exit code (or signal name), stdout and stderr. */
  done: Promise<{ code: number | string; stdout: string; stderr: string }>;
}

/** Starts `durascribe run <args>` in `cwd`. */
export function startRun(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): RunProcess {
  const proc = spawn(process.execPath, [cli, "run", ...args], {
    cwd,
    env: { ...process.env, DURASCRIBE_MAX_JOBS: "2", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  createInterface({ input: proc.stderr }).on("line", (l) => {
    stderr += `${l}\n`;
    for (const w of [...watchers]) {
      if (w.re.test(l)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const done = new Promise<{
    code: number | string;
    stdout: string;
    stderr: string;
  }>((resolve) =>
    proc.once("close", (code, signal) =>
      resolve({ code: code ?? signal ?? -1, stdout, stderr }),
    ),
  );
  return {
    proc,
    done,
    line: (re) =>
      new Promise((resolve, reject) => {
        watchers.push({ re, resolve });
        void done.then((d) =>
          reject(new Error(`run ended (${d.code}) before ${re}: ${d.stderr}`)),
        );
      }),
  };
}

/**
 * A Build API stand-in on 127.0.0.1: sessions from `sessions` (code to
 * title and media file), each video served from the same server.
 */
export async function buildApi(
  sessions: Record<string, { title: string; file: string }>,
): Promise<{ url: string; close(): Promise<void> }> {
  let url = "";
  const server = http.createServer((req, res) => {
    const session = /^\/api\/session\/en-US-([A-Z0-9]+)$/.exec(req.url ?? "");
    const media = /^\/media\/([A-Z0-9]+)\.mp4$/.exec(req.url ?? "");
    const known = sessions[(session ?? media)?.[1] ?? ""];
    if (session && known) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          sessionCode: session[1],
          title: known.title,
          downloadVideoLink: `${url}/media/${session[1]}.mp4`,
        }),
      );
    } else if (media && known) {
      const body = readFileSync(known.file);
      res.writeHead(200, {
        "content-type": "video/mp4",
        "content-length": body.length,
      });
      res.end(body);
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not found" }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
