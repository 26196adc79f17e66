/**
 * The model cache folder (DURASCRIBE_MODELS_DIR, by default
 * ~/.cache/durascribe/models): `ggml-<name>.bin` files, each with its
 * SHA-256 recorded beside it in `ggml-<name>.bin.sha256`, in the format
 * `sha256sum` writes and checks (`<hex>  <file name>`). Temp files are
 * hidden (they start with a dot) and end up renamed into place, so a
 * model file either is complete or is not there.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";

import { processStartSync, removeOrphans } from "../process-identity.js";
import { modelFileName } from "./catalogue.js";

/** The default cache folder under `home`: `<home>/.cache/durascribe/models`. */
export function defaultModelsDir(home: string = os.homedir()): string {
  return path.join(home, ".cache", "durascribe", "models");
}

/** Where the model called `name` lies in `modelsDir`. */
export function cachedModelPath(modelsDir: string, name: string): string {
  return path.join(modelsDir, modelFileName(name));
}

/** The checksum file recorded beside `modelFile`. */
export function checksumPath(modelFile: string): string {
  return `${modelFile}.sha256`;
}

let ownerTag: string | undefined;

/**
 * `<host>-<pid>-<start>`: the host (a hash of its name), pid and kernel
 * start time of this process, which every temp name carries so that a
 * later process can tell a temp whose writer died from one in use.
 */
function owner(): string {
  ownerTag ??= `${hostTag()}-${process.pid}-${processStartSync(process.pid) ?? 0}`;
  return ownerTag;
}

function hostTag(): string {
  return createHash("sha256").update(os.hostname()).digest("hex").slice(0, 8);
}

/**
 * A unique hidden temp name in the same folder as `file`, for a rename:
 * `.<file name>.<owner>-<random>.<suffix>`.
 */
export function tempPathFor(file: string, suffix = "tmp"): string {
  const id = randomBytes(6).toString("hex");
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${owner()}-${id}.${suffix}`,
  );
}

const TEMP_OWNER = /^\..+?\.([0-9a-f]{8})-(\d+)-(\d+)-[0-9a-f]{12}\./;

/**
 * Removes the temp files in `dir` left by processes that died before
 * renaming or removing them (a pull killed mid-download), and returns
 * their paths. Temps of live processes, and of other hosts sharing the
 * folder, stay. Never throws.
 */
export function sweepStaleTemps(dir: string): Promise<string[]> {
  return removeOrphans(dir, hostTag(), (name) => {
    const m = TEMP_OWNER.exec(name);
    if (!m) return undefined;
    const start = m[3] === "0" ? undefined : m[3];
    return { host: m[1]!, pid: Number(m[2]), start };
  });
}

/** Records `sha256` beside `modelFile`, atomically. */
export async function writeChecksum(
  modelFile: string,
  sha256: string,
): Promise<void> {
  const target = checksumPath(modelFile);
  const temp = tempPathFor(target);
  await writeFile(temp, `${sha256}  ${path.basename(modelFile)}\n`);
  await rename(temp, target);
}

/** The SHA-256 recorded beside `modelFile`, or undefined if none is. */
export async function readChecksum(
  modelFile: string,
): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(checksumPath(modelFile), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const hex = /^([0-9a-f]{64})\b/i.exec(text.trim())?.[1];
  return hex?.toLowerCase();
}

/** Removes a model's recorded checksum, if any. */
export async function removeChecksum(modelFile: string): Promise<void> {
  await rm(checksumPath(modelFile), { force: true });
}

/**
 * Moves a finished temp file into place as `modelFile` and records its
 * checksum. The old checksum goes first, so a crash in between leaves a
 * model without a record, never one with a record that does not match.
 */
export async function installModel(
  temp: string,
  modelFile: string,
  sha256: string,
): Promise<void> {
  await removeChecksum(modelFile);
  await rename(temp, modelFile);
  await writeChecksum(modelFile, sha256);
}

/** The hex SHA-256 of a file, read as a stream. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** A model file found in the cache folder. */
export interface CachedModel {
  /** The name between `ggml-` and `.bin`. */
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  /** The recorded SHA-256, if any. */
  readonly sha256: string | undefined;
}

/** Every `ggml-<name>.bin` in `modelsDir`, by name; none if it is missing. */
export async function listCachedModels(
  modelsDir: string,
): Promise<CachedModel[]> {
  let names: string[];
  try {
    names = await readdir(modelsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const models: CachedModel[] = [];
  for (const file of names.sort()) {
    const match = /^ggml-(.+)\.bin$/.exec(file);
    if (match === null) continue;
    const full = path.join(modelsDir, file);
    const info = await stat(full);
    if (!info.isFile()) continue;
    models.push({
      name: match[1]!,
      path: full,
      bytes: info.size,
      sha256: await readChecksum(full),
    });
  }
  return models;
}
