/**
 * A {@link TranscriptStore} on an Azure Blob Storage container, through
 * `@azure/storage-blob`. Each object is a block blob written with one Put
 * Blob request, which the service commits at once: a reader gets the old
 * blob or the new one, never a part.
 */
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import {
  BlobServiceClient,
  RestError,
  type ContainerClient,
  type StoragePipelineOptions,
} from "@azure/storage-blob";

import {
  InvalidNameError,
  StorageError,
  type TranscriptStore,
} from "./store.js";

export { StorageError };

/** How a {@link BlobTranscriptStore} authenticates. */
export interface BlobAuth {
  /** An account connection string; wins over `credential` when set. */
  connectionString?: string | undefined;
  /** A token credential. @default new DefaultAzureCredential() */
  credential?: TokenCredential | undefined;
}

const PIPELINE: StoragePipelineOptions = {
  // Transcripts are small: a try that takes a minute is a stuck one.
  retryOptions: { maxTries: 4, tryTimeoutInMs: 60_000 },
};

/** Stores each object as a block blob in one container. */
export class BlobTranscriptStore implements TranscriptStore {
  private containerReady = false;

  /** @param container The container to store in; created on first write. */
  constructor(readonly container: ContainerClient) {}

  /**
   * A store on container `containerName` of the account at `accountUrl`
   * (such as `https://acct.blob.core.windows.net`). With a connection
   * string, the account is the one the string names. `pipeline` tunes
   * retries and timeouts (the default: 4 tries of at most 60 s each).
   */
  static open(
    accountUrl: string,
    containerName: string,
    auth: BlobAuth = {},
    pipeline: StoragePipelineOptions = PIPELINE,
  ): BlobTranscriptStore {
    const service = auth.connectionString
      ? BlobServiceClient.fromConnectionString(auth.connectionString, pipeline)
      : new BlobServiceClient(
          accountUrl,
          auth.credential ?? new DefaultAzureCredential(),
          pipeline,
        );
    return new BlobTranscriptStore(service.getContainerClient(containerName));
  }

  /**
   * Uploads `body` as one block blob with `contentType`, creating the
   * container when it does not exist yet.
   *
   * @returns The blob's URL, without any SAS token.
   * @throws InvalidNameError for an empty, absolute or `..` name.
   * @throws StorageError when the service refuses or cannot be reached.
   */
  async put(
    name: string,
    body: string | Buffer,
    contentType: string,
  ): Promise<string> {
    const blob = this.container.getBlockBlobClient(checkName(name));
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    const upload = () =>
      blob.upload(bytes, bytes.length, {
        blobHTTPHeaders: { blobContentType: contentType },
      });

    try {
      try {
        await upload();
      } catch (err) {
        if (this.containerReady || !isCode(err, "ContainerNotFound")) {
          throw err;
        }
        await this.container.createIfNotExists();
        await upload();
      }
      this.containerReady = true;
    } catch (err) {
      throw storageError(err, `upload ${withoutQuery(blob.url)}`);
    }
    return withoutQuery(blob.url);
  }

  /**
   * Downloads the blob stored under `name`.
   *
   * @returns Its bytes, or undefined when there is no such blob or
   *   container.
   */
  async get(name: string): Promise<Buffer | undefined> {
    const blob = this.container.getBlockBlobClient(checkName(name));
    try {
      // One GET, not downloadToBuffer: that asks for the size first and
      // then fetches ranges, which can mix two versions of a blob that is
      // overwritten meanwhile. The SDK resumes a dropped GET with If-Match.
      const response = await blob.download();
      return await readAll(response.readableStreamBody);
    } catch (err) {
      // A 404 to a HEAD or GET carries its error code in a header only.
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw storageError(err, `download ${withoutQuery(blob.url)}`);
    }
  }
}

/** The same rules as the file store, so a name works in both. */
function checkName(name: string): string {
  if (name === "" || name.includes("\0")) {
    throw new InvalidNameError(name, "it is empty or contains a NUL byte");
  }
  if (name.startsWith("/") || name.includes("\\")) {
    throw new InvalidNameError(name, "it is absolute or uses backslashes");
  }
  if (name.split("/").includes("..")) {
    throw new InvalidNameError(name, 'it contains a ".." segment');
  }
  return name;
}

async function readAll(
  body: NodeJS.ReadableStream | undefined,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body ?? []) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return (
    err instanceof RestError &&
    typeof err.code === "string" &&
    codes.includes(err.code)
  );
}

/** Answers that the same request will get again, whatever the retries. */
const PERMANENT_STATUS = new Set([400, 401, 403, 404, 405, 411, 413, 414]);

/** Identity errors that mean no credential is configured at all. */
const NO_CREDENTIAL = new Set([
  "CredentialUnavailableError",
  "AggregateAuthenticationError",
]);

function storageError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  if (err instanceof RestError) {
    const status = err.statusCode;
    const detail = err.code ?? err.message.split("\n")[0];
    const answer = status === undefined ? "failed" : `got ${status}`;
    return new StorageError(
      `Azure Blob Storage ${what}: ${answer} (${detail})`,
      status !== undefined && PERMANENT_STATUS.has(status),
      status,
      { cause: err },
    );
  }
  if (err instanceof Error && NO_CREDENTIAL.has(err.name)) {
    return new StorageError(
      `Azure Blob Storage ${what}: no Azure credential is available (set AZURE_STORAGE_CONNECTION_STRING, or use a managed identity, workload identity or \`az login\`): ${err.message.split("\n")[0]}`,
      true,
      undefined,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError(
    `Azure Blob Storage ${what}: ${message}`,
    false,
    undefined,
    { cause: err },
  );
}

function withoutQuery(url: string): string {
  const u = new URL(url);
  u.search = "";
  return u.href;
}
