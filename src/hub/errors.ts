/**
 * Errors the hub answers with. Each carries the gRPC status code the caller
 * receives, so handlers throw and one place turns them into responses.
 */
import { status } from "@grpc/grpc-js";

/** An error with the gRPC status it maps to. */
export class HubError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = "HubError";
  }
}

/** The named instance does not exist in this task hub. */
export function notFound(hub: string, instanceId: string): HubError {
  return new HubError(
    status.NOT_FOUND,
    `no instance "${instanceId}" in task hub "${hub}"`,
  );
}

/** A request field is missing or malformed. */
export function invalidArgument(field: string, problem: string): HubError {
  return new HubError(status.INVALID_ARGUMENT, `${field}: ${problem}`);
}

/** A completion or abandon names a work item this hub no longer holds. */
export function staleWorkItem(what: string): HubError {
  return new HubError(
    status.FAILED_PRECONDITION,
    `${what}: the work item is unknown or its lock has expired or moved to another worker; the result was not recorded`,
  );
}
