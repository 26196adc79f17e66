/**
 * The error classes of durascribe. Each carries a stable `code` and says
 * whether retrying could help (`permanent`), so a job execution can exit
 * with a code that tells the orchestration to retry or to stop, and the
 * CLI can exit with the code its documentation promises.
 */

/** Exit code of a job execution that succeeded. */
export const EXIT_OK = 0;

/** Exit code for an error that is not a {@link DurascribeError}. */
export const EXIT_UNEXPECTED = 1;

/** Base class of every error durascribe raises on purpose. */
export class DurascribeError extends Error {
  /** Stable, searchable identifier such as `E_FETCH_STATUS`. */
  readonly code: string;

  /** True when retrying the same job execution cannot succeed. */
  readonly permanent: boolean;

  /** Process exit code a job execution uses when it fails with this error. */
  readonly exitCode: number;

  constructor(
    message: string,
    code: string,
    permanent: boolean,
    exitCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.permanent = permanent;
    this.exitCode = exitCode;
  }
}

/** Invalid configuration (bad env var or flag); exit code 2, permanent. */
export class ConfigError extends DurascribeError {
  constructor(message: string, code = "E_CONFIG", options?: ErrorOptions) {
    super(message, code, true, 2, options);
  }
}

/**
 * The media cannot be had or used: a 4xx answer, a missing file, content
 * that is not media. Exit code 3, permanent: retrying will not help.
 */
export class PermanentMediaError extends DurascribeError {
  constructor(message: string, code = "E_MEDIA", options?: ErrorOptions) {
    super(message, code, true, 3, options);
  }
}

/**
 * A failure that may go away on retry: a 5xx answer, a dropped connection,
 * a timeout, a truncated download. Exit code 4.
 */
export class TransientError extends DurascribeError {
  constructor(message: string, code = "E_TRANSIENT", options?: ErrorOptions) {
    super(message, code, false, 4, options);
  }
}

/**
 * The process exit code for a job execution that failed with `err`:
 * the error's own exit code for a {@link DurascribeError}, otherwise
 * {@link EXIT_UNEXPECTED}.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof DurascribeError) return err.exitCode;
  return EXIT_UNEXPECTED;
}
