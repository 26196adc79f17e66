/**
 * Resolving expanded entries to media the job can fetch. Each failure is
 * a result for its entry (an unknown session code, a session without
 * video, a file that is gone), never an exception for the batch.
 */
import { stat } from "node:fs/promises";
import path from "node:path";

import { DurascribeError, PermanentMediaError } from "../errors.js";
import type { BuildApi } from "./build.js";
import { stem } from "./ids.js";
import { urlFileName } from "./expand.js";
import type { ResolvedSource, SourceEntry } from "./types.js";

/** Options of {@link resolveSources}. */
export interface ResolveOptions {
  build: BuildApi;
  /** Session lookups in flight at once. @default 8 */
  concurrency?: number;
}

/** Resolves `entries`, keeping their order. */
export async function resolveSources(
  entries: readonly SourceEntry[],
  opts: ResolveOptions,
): Promise<ResolvedSource[]> {
  const out = new Array<ResolvedSource>(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await resolveOne(entries[i]!, opts.build);
    }
  };
  const lanes = Math.max(1, Math.min(opts.concurrency ?? 8, entries.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  return out;
}

async function resolveOne(
  entry: SourceEntry,
  build: BuildApi,
): Promise<ResolvedSource> {
  const base = { id: entry.id, source: entry.source, base: entry.base };
  const title = titleOf(entry);
  if (entry.error) {
    return failed(base, title, entry.error, entry.errorCode ?? "E_SOURCE");
  }
  try {
    switch (entry.kind) {
      case "session": {
        const s = await build.session(entry.source);
        return ok(base, s.title, s.mediaUrl);
      }
      case "url":
        return ok(base, title, entry.source);
      case "file":
        return ok(base, title, await mediaFile(entry));
    }
  } catch (err) {
    const code = err instanceof DurascribeError ? err.code : "E_SOURCE";
    return failed(base, title, (err as Error).message, code);
  }
}

/** A title before any lookup: the code, or the file name without extension. */
function titleOf(entry: SourceEntry): string {
  if (entry.error || entry.kind === "session") return entry.source;
  if (entry.kind === "file") return stem(path.basename(entry.source));
  const url = new URL(entry.source);
  return stem(urlFileName(url)) || url.hostname;
}

async function mediaFile(entry: SourceEntry): Promise<string> {
  let isFile = false;
  try {
    isFile = (await stat(entry.source)).isFile();
  } catch {
    // Reported below as not found.
  }
  if (!isFile) {
    throw new PermanentMediaError(
      `media file ${entry.source} does not exist or is not a file`,
      "E_SOURCE_NOT_FOUND",
    );
  }
  return entry.source;
}

function ok(
  base: Pick<ResolvedSource, "id" | "source" | "base">,
  title: string,
  mediaUrl: string,
): ResolvedSource {
  return { ...base, title, mediaUrl, error: null, errorCode: null };
}

function failed(
  base: Pick<ResolvedSource, "id" | "source" | "base">,
  title: string,
  error: string,
  errorCode: string,
): ResolvedSource {
  return { ...base, title, mediaUrl: null, error, errorCode };
}
