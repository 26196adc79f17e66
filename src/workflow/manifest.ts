/**
 * Reading a job execution's manifest from where the job wrote it: the
 * same storage (a `file:` folder or a Blob container) the job was told.
 */
import path from "node:path";

import type { JobManifest } from "../runners/runner.js";
import type { BlobAuth } from "../storage/blob.js";
import { openTranscriptStore, parseStorageUrl } from "../storage/open.js";
import type { TranscriptStore } from "../storage/store.js";
import type { OutputLocation } from "./types.js";

/** Reads the manifest of the outputs at `output`, if there is one yet. */
export type ManifestReader = (
  output: OutputLocation,
) => Promise<JobManifest | undefined>;

/** The manifest's name in its container. */
function manifestName(base: string): string {
  return `${base}.manifest.json`;
}

/** Where the manifest of `output` lives: an absolute path or a blob URL. */
export function manifestLocation(output: OutputLocation): string {
  const where = parseStorageUrl(output.storageAccountUrl);
  const name = manifestName(output.base);
  return where.kind === "file"
    ? path.join(where.folder, output.storageContainer, name)
    : `${where.accountUrl}/${output.storageContainer}/${name}`;
}

/**
 * A reader with the given Blob credentials; it keeps one store per
 * account and container.
 */
export function createManifestReader(auth: BlobAuth = {}): ManifestReader {
  const stores = new Map<string, TranscriptStore>();
  return async (output) => {
    const key = `${output.storageAccountUrl}\n${output.storageContainer}`;
    let store = stores.get(key);
    if (!store) {
      store = openTranscriptStore(
        parseStorageUrl(output.storageAccountUrl),
        output.storageContainer,
        auth,
      );
      stores.set(key, store);
    }
    const body = await store.get(manifestName(output.base));
    if (body === undefined) return undefined;
    return JSON.parse(body.toString("utf8")) as JobManifest;
  };
}

/** A reader for `file:` storage and Blob storage with default credentials. */
export const readManifest: ManifestReader = createManifestReader();
