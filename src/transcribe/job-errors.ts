/**
 * How a failure ends a job execution: the error it exits with (and so its
 * exit code), and the error recorded in the manifest.
 */
import { ConfigError, DurascribeError, TransientError } from "../errors.js";
import { InvalidNameError, StorageError } from "../storage/store.js";
import type { ManifestError } from "./manifest.js";

/** The manifest's record of `err`: its code, first line, permanence. */
export function manifestError(err: Error): ManifestError {
  const first = err.message.split("\n")[0] ?? "";
  if (err instanceof DurascribeError) {
    return { code: err.code, message: first, permanent: err.permanent };
  }
  return { code: "E_UNEXPECTED", message: first, permanent: false };
}

/**
 * The error a job execution ends with: storage failures become
 * configuration (refused, exit 2) or transient (exit 4) errors, an abort
 * is transient unless its reason says otherwise.
 */
export function jobError(err: unknown, signal?: AbortSignal): Error {
  if (err instanceof DurascribeError) return err;
  if (signal?.aborted && err === signal.reason) {
    return new TransientError("the job execution was stopped", "E_ABORTED", {
      cause: err,
    });
  }
  if (err instanceof InvalidNameError) {
    return new ConfigError(err.message, err.code, { cause: err });
  }
  if (err instanceof StorageError) {
    return err.permanent
      ? new ConfigError(err.message, err.code, { cause: err })
      : new TransientError(err.message, err.code, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
