/**
 * The Silero VAD model that whisper.cpp's voice activity detection needs,
 * as a ggml file in the model cache (`ggml-silero-v<version>.bin`).
 *
 * whisper.cpp's published ggml files live on Hugging Face, which may be out
 * of reach; the same weights ship in the `silero-vad` package on PyPI as a
 * TorchScript file. So a missing model is made here: pip downloads the
 * wheel into a temporary folder, the TorchScript model inside it is
 * converted (no torch needed) and written atomically, its SHA-256 is
 * recorded beside it (`<file>.sha256`), and the temporary folder goes.
 * For the versions whisper.cpp publishes, the result is byte for byte the
 * published file, and that is checked.
 */

import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ConfigError, DurascribeError } from "../errors.js";
import { silentLogger } from "../logger.js";
import type { Logger } from "../logger.js";
import { installModel, readChecksum, tempPathFor } from "./cache.js";
import { pipDownload } from "./pip.js";
import { sileroToGgml } from "./vad-ggml.js";
import { readTorchScriptTensors } from "./vad-torchscript.js";
import type { ArchiveEntries } from "./vad-torchscript.js";
import { ZipArchive } from "./zip.js";

/**
 * The silero-vad version used unless told otherwise: the one whisper.cpp
 * 1.9.1 documents (`models/download-vad-model.sh silero-v6.2.0`).
 */
export const DEFAULT_SILERO_VERSION = "6.2.0";

/**
 * The ggml files whisper.cpp publishes (ggml-org/whisper-vad), made by its
 * own converter from the same package versions: size and SHA-256.
 */
export const PUBLISHED_VAD_MODELS: Readonly<
  Record<string, { readonly bytes: number; readonly sha256: string }>
> = {
  "6.2.0": {
    bytes: 885_098,
    sha256: "2aa269b785eeb53a82983a20501ddf7c1d9c48e33ab63a41391ac6c9f7fb6987",
  },
  "5.1.2": {
    bytes: 885_098,
    sha256: "29940d98d42b91fbd05ce489f3ecf7c72f0a42f027e4875919a28fb4c04ea2cf",
  },
};

/** Where the wheel keeps its TorchScript model. */
const JIT_ENTRY = "silero_vad/data/silero_vad.jit";

/** Options of {@link ensureVadModel}. */
export interface VadModelOptions {
  /** silero-vad package version; default {@link DEFAULT_SILERO_VERSION}. */
  version?: string;
  /** The Python that runs pip; default `python3`. */
  python?: string;
  /**
   * More arguments for `pip download`, e.g. `--no-index --find-links DIR`
   * to take the wheel from a local folder.
   */
  pipArgs?: readonly string[];
  /** Where progress is told; default silent. */
  logger?: Logger;
}

/**
 * The cache file name of a Silero VAD model version.
 *
 * @throws ConfigError when `version` is not `x.y.z`.
 */
export function vadModelFileName(version = DEFAULT_SILERO_VERSION): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new ConfigError(
      `Silero VAD version "${version}" is not a version such as ${DEFAULT_SILERO_VERSION}`,
      "E_VAD_VERSION",
    );
  }
  return `ggml-silero-v${version}.bin`;
}

/**
 * The path of the cached VAD model of `version` when it is there and its
 * bytes match its recorded (or published) SHA-256; otherwise undefined.
 */
export async function findVadModel(
  modelsDir: string,
  version = DEFAULT_SILERO_VERSION,
): Promise<string | undefined> {
  const path = join(modelsDir, vadModelFileName(version));
  const body = await readFile(path).catch(() => undefined);
  if (!body) return undefined;
  const expected =
    (await readChecksum(path)) ?? PUBLISHED_VAD_MODELS[version]?.sha256;
  if (expected !== undefined && sha256(body) !== expected) return undefined;
  return path;
}

/**
 * The path of a ggml Silero VAD model in `modelsDir`, made from the PyPI
 * package when it is missing or damaged (see the module comment).
 *
 * @throws ConfigError when the version is not x.y.z, Python or pip is
 *   missing (E_PIP_MISSING), the wheel is not a silero-vad wheel, or the
 *   result differs from the published file; TransientError (E_PIP_DOWNLOAD)
 *   when pip cannot download it.
 */
export async function ensureVadModel(
  modelsDir: string,
  options: VadModelOptions = {},
): Promise<string> {
  const version = options.version ?? DEFAULT_SILERO_VERSION;
  const log = (options.logger ?? silentLogger).child({ component: "vad" });
  const target = join(modelsDir, vadModelFileName(version));
  const cached = await findVadModel(modelsDir, version);
  if (cached) return cached;

  await mkdir(modelsDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), "durascribe-silero-vad-"));
  try {
    const started = Date.now();
    log.info("VAD model not in the cache: downloading silero-vad with pip", {
      package: `silero-vad==${version}`,
      target,
    });
    const wheel = await downloadWheel(version, work, modelsDir, options);

    log.info("converting the Silero TorchScript model to ggml", { wheel });
    const made = await convertSileroWheel(wheel, work);
    if (made.version !== version) {
      throw new ConfigError(
        `pip gave silero-vad ${made.version}, not the ${version} asked for`,
        "E_VAD_VERSION",
      );
    }
    const digest = checkPublished(made.model, version);

    const temp = tempPathFor(target);
    try {
      await writeFile(temp, made.model, { flush: true });
      await installModel(temp, target, digest);
    } finally {
      await rm(temp, { force: true });
    }
    log.info("VAD model ready", {
      path: target,
      sha256: digest,
      bytes: made.model.length,
      seconds: (Date.now() - started) / 1000,
    });
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Converts the Silero model inside a silero-vad wheel to the ggml file
 * whisper.cpp loads. `workDir` holds the extracted TorchScript file for a
 * moment. Returns the package version (from the wheel's METADATA) and the
 * file's bytes.
 */
export async function convertSileroWheel(
  wheelPath: string,
  workDir: string,
): Promise<{ version: string; model: Buffer }> {
  const wheel = await ZipArchive.open(wheelPath);
  const jitPath = join(
    workDir,
    `silero_vad-${randomBytes(4).toString("hex")}.jit`,
  );
  let version: string;
  try {
    version = await wheelVersion(wheel);
    const jit = wheel.find(JIT_ENTRY);
    if (!jit) {
      throw new ConfigError(
        `${wheelPath} has no ${JIT_ENTRY}: not a silero-vad wheel`,
        "E_VAD_WHEEL",
      );
    }
    await wheel.extract(jit, jitPath);
  } finally {
    await wheel.close();
  }
  try {
    return { version, model: await convertSileroJit(jitPath, version) };
  } finally {
    await rm(jitPath, { force: true });
  }
}

/**
 * Converts a Silero TorchScript file (`silero_vad.jit`, v5 or v6) to the
 * ggml VAD file whisper.cpp loads, with `version` in its header.
 */
export async function convertSileroJit(
  jitPath: string,
  version: string,
): Promise<Buffer> {
  const archive = await loadArchive(jitPath);
  try {
    return sileroToGgml(readTorchScriptTensors(archive), version);
  } catch (err) {
    throw new ConfigError(
      `${jitPath}: cannot convert the Silero model: ${(err as Error).message}`,
      "E_VAD_CONVERT",
      { cause: err },
    );
  }
}

/** Reads every entry of a (small) zip into memory, by name. */
async function loadArchive(path: string): Promise<ArchiveEntries> {
  const zip = await ZipArchive.open(path);
  const bodies = new Map<string, Uint8Array>();
  try {
    for (const entry of zip.entries) {
      if (!entry.isDirectory) bodies.set(entry.name, await zip.read(entry));
    }
  } finally {
    await zip.close();
  }
  return { names: [...bodies.keys()], read: (name) => bodies.get(name) };
}

async function wheelVersion(wheel: ZipArchive): Promise<string> {
  const entry = wheel.entries.find((e) =>
    /^silero_vad-[^/]+\.dist-info\/METADATA$/.test(e.name),
  );
  const metadata = entry ? (await wheel.read(entry)).toString("utf8") : "";
  const version = /^Version:\s*(\S+)\s*$/m.exec(metadata)?.[1];
  if (!version) {
    throw new ConfigError(
      `${wheel.path} has no silero_vad dist-info METADATA with a Version`,
      "E_VAD_WHEEL",
    );
  }
  return version;
}

/** The SHA-256 of `model`, checked against the published file if any. */
function checkPublished(model: Buffer, version: string): string {
  const digest = sha256(model);
  const published = PUBLISHED_VAD_MODELS[version];
  if (published && published.sha256 !== digest) {
    throw new ConfigError(
      `the converted Silero VAD ${version} model (sha256 ${digest}, ${model.length} bytes) differs from whisper.cpp's published ${vadModelFileName(version)} (sha256 ${published.sha256}, ${published.bytes} bytes)`,
      "E_VAD_CHECKSUM",
    );
  }
  return digest;
}

/**
 * Downloads the wheel with pip (src/models/pip.ts); a missing Python or
 * pip gets advice on placing the model by hand.
 */
async function downloadWheel(
  version: string,
  dir: string,
  modelsDir: string,
  options: VadModelOptions,
): Promise<string> {
  try {
    return await pipDownload({ name: "silero-vad", version }, dir, {
      ...(options.python === undefined ? {} : { python: options.python }),
      extraArgs: ["--only-binary=:all:", ...(options.pipArgs ?? [])],
    });
  } catch (err) {
    if (!(err instanceof DurascribeError) || !err.permanent) throw err;
    throw new ConfigError(
      `cannot make the Silero VAD model: ${err.message}; or put ${vadModelFileName(version)} (whisper.cpp's ggml-org/whisper-vad file) into ${modelsDir}`,
      err.code,
      { cause: err },
    );
  }
}

function sha256(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}
