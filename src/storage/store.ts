/**
 * Where transcripts and manifests go once a job execution has rendered them.
 * A name is a relative, slash-separated path such as `DEM520/transcript.srt`.
 */

/** A place to write and read back transcript files by name. */
export interface TranscriptStore {
  /**
   * Stores `body` under `name`, replacing any earlier object of that name.
   * Readers never see a half-written object.
   *
   * @returns Where the object now lives (a path or URL), for the manifest.
   */
  put(
    name: string,
    body: string | Buffer,
    contentType: string,
  ): Promise<string>;

  /** The bytes stored under `name`, or `undefined` if there are none. */
  get(name: string): Promise<Buffer | undefined>;
}

/**
 * A name that is empty, absolute or climbs out of the store with `..`.
 * Permanent: the same name fails the same way on every try. Defined here,
 * not from src/errors.ts, so storage stays free of the job's exit codes.
 */
export class InvalidNameError extends Error {
  /** Stable, searchable identifier. */
  readonly code = "E_STORAGE_NAME";

  /** Retrying with the same name cannot succeed. */
  readonly permanent = true;

  /** @param name The rejected name. @param why What is wrong with it. */
  constructor(
    readonly objectName: string,
    why: string,
  ) {
    super(
      `invalid transcript name ${JSON.stringify(objectName)}: ${why}; names must be relative paths inside the store`,
    );
    this.name = "InvalidNameError";
  }
}

/**
 * A storage call that failed. `permanent` says whether repeating it can
 * help: a refused credential or a bad request cannot, a 503 or a dropped
 * connection can. Like InvalidNameError, it carries no exit code: the job maps it.
 */
export class StorageError extends Error {
  /** Stable, searchable identifier. */
  readonly code = "E_STORAGE";

  /**
   * @param message What failed, naming the blob or container.
   * @param permanent Retrying the same call cannot succeed.
   * @param status The HTTP status, when the service answered.
   */
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "StorageError";
  }
}
