/**
 * Opening the transcript store a job execution writes to, from the job's
 * STORAGE_ACCOUNT_URL and STORAGE_CONTAINER_NAME.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

import { ConfigError } from "../errors.js";
import type { BlobAuth, BlobTranscriptStore } from "./blob.js";
import { FileTranscriptStore } from "./file.js";
import type { TranscriptStore } from "./store.js";

/** Where transcripts go, parsed from a storage URL. */
export type StorageLocation =
  { kind: "file"; folder: string } | { kind: "blob"; accountUrl: string };

/**
 * Parses `file:<folder>` (a relative or absolute path, or a `file://` URL)
 * or an `https://` (or, for an emulator, `http://`) Blob account URL.
 *
 * @param setting Name of the setting it came from, for messages.
 * @throws ConfigError for anything else.
 */
export function parseStorageUrl(
  value: string,
  setting = "STORAGE_ACCOUNT_URL",
): StorageLocation {
  if (value.startsWith("file:")) {
    return { kind: "file", folder: filePath(value, setting) };
  }

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badUrl(value, setting, "it is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw badUrl(value, setting, `the scheme ${url.protocol} is not supported`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw badUrl(
      value,
      setting,
      "it carries a query or fragment; give a SAS token through AZURE_STORAGE_CONNECTION_STRING instead",
    );
  }
  return { kind: "blob", accountUrl: url.href.replace(/\/+$/, "") };
}

function filePath(value: string, setting: string): string {
  if (value.startsWith("file://")) {
    try {
      return fileURLToPath(value);
    } catch (err) {
      throw badUrl(value, setting, (err as Error).message);
    }
  }
  const folder = value.slice("file:".length);
  if (folder === "") throw badUrl(value, setting, "it names no folder");
  return path.resolve(folder);
}

function badUrl(value: string, setting: string, why: string): ConfigError {
  return new ConfigError(
    `${setting} "${value}" is not usable: ${why}; give file:<folder> or an Azure Blob account URL such as https://account.blob.core.windows.net`,
    "E_CONFIG_STORAGE",
  );
}

/** Checks that `name` is a usable container or sub-folder name. */
export function checkContainerName(
  name: string,
  setting = "STORAGE_CONTAINER_NAME",
): string {
  // The Blob service's rule; a folder under it is then safe too.
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(name)) {
    throw new ConfigError(
      `${setting} "${name}" is not a valid container name: use 3-63 lower-case letters, digits and single hyphens, starting with a letter or digit`,
      "E_CONFIG_STORAGE",
    );
  }
  return name;
}

/**
 * The store for `location` and `container`: a sub-folder `container` of a
 * `file:` folder, or that container of the Blob account. The Azure SDK is
 * loaded on the first call to a Blob store, not before: it takes over a
 * second to load, and a job on a file store should not pay for it.
 */
export function openTranscriptStore(
  location: StorageLocation,
  container: string,
  auth: BlobAuth = {},
): TranscriptStore {
  if (location.kind === "file") {
    return new FileTranscriptStore(path.join(location.folder, container));
  }
  return new LazyBlobStore(location.accountUrl, container, auth);
}

/** A Blob store opened on first use. */
class LazyBlobStore implements TranscriptStore {
  private store: Promise<TranscriptStore> | undefined;

  constructor(
    private readonly accountUrl: string,
    private readonly container: string,
    private readonly auth: BlobAuth,
  ) {}

  async put(name: string, body: string | Buffer, type: string) {
    return (await this.open()).put(name, body, type);
  }

  async get(name: string): Promise<Buffer | undefined> {
    return (await this.open()).get(name);
  }

  private open(): Promise<TranscriptStore> {
    this.store ??= import("./blob.js").then(({ BlobTranscriptStore }) => {
      const store = BlobTranscriptStore.open(
        this.accountUrl,
        this.container,
        this.auth,
      );
      if (this.auth.connectionString) checkSameAccount(store, this.accountUrl);
      return store;
    });
    return this.store;
  }
}

/** A connection string names its own account: it must be the one asked for. */
function checkSameAccount(store: BlobTranscriptStore, accountUrl: string) {
  const url = new URL(store.container.url);
  url.search = "";
  const account = url.href.replace(/\/[^/]*$/, "");
  if (account !== accountUrl) {
    throw new ConfigError(
      `AZURE_STORAGE_CONNECTION_STRING is for the account at ${account}, but STORAGE_ACCOUNT_URL is ${accountUrl}; make them name the same account`,
      "E_CONFIG_STORAGE",
    );
  }
}
