/**
 * Small pieces every dashboard route uses: the error type routes throw,
 * JSON responses, and request bodies read with a size limit.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { status as grpcStatus } from "@grpc/grpc-js";
import { HubError } from "../errors.js";

/** An error answered as `{ "error": { code, message } }` with a status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** 400: a query parameter or body field is missing or malformed. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, "invalid_argument", message);
}

/** 404: the thing asked for is not there. */
export function notFoundError(message: string): HttpError {
  return new HttpError(404, "not_found", message);
}

// How the hub's gRPC-coded errors read over HTTP.
const FROM_GRPC: Partial<Record<grpcStatus, [number, string]>> = {
  [grpcStatus.INVALID_ARGUMENT]: [400, "invalid_argument"],
  [grpcStatus.NOT_FOUND]: [404, "not_found"],
  [grpcStatus.ALREADY_EXISTS]: [409, "already_exists"],
  [grpcStatus.FAILED_PRECONDITION]: [409, "failed_precondition"],
  [grpcStatus.UNAUTHENTICATED]: [401, "unauthenticated"],
  [grpcStatus.RESOURCE_EXHAUSTED]: [413, "resource_exhausted"],
  [grpcStatus.UNIMPLEMENTED]: [501, "unimplemented"],
};

/** The HttpError for anything a route threw; unknown errors become 500. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof HubError) {
    const [status, code] = FROM_GRPC[err.code] ?? [500, "internal"];
    return new HttpError(status, code, err.message);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(500, "internal", `internal error: ${message}`);
}

/** Headers every response carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
};

/** Sends a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends an HttpError as JSON. */
export function sendError(
  res: ServerResponse,
  err: HttpError,
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    err.status,
    { error: { code: err.code, message: err.message } },
    headers,
  );
}

/**
 * Refuses a state-changing request another site's page sent: browsers say
 * where a POST comes from in Origin (and Sec-Fetch-Site).
 */
export function requireSameOrigin(req: IncomingMessage): void {
  const site = req.headers["sec-fetch-site"];
  const origin = req.headers.origin;
  let foreign = site === "cross-site";
  if (origin === "null") foreign = true;
  else if (origin !== undefined) {
    try {
      foreign ||= new URL(origin).host !== req.headers.host;
    } catch {
      foreign = true;
    }
  }
  if (foreign) {
    throw new HttpError(
      403,
      "forbidden",
      "requests from other sites' pages cannot change anything here",
    );
  }
}

/** Reads a request body of at most `limit` bytes. */
export async function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    "payload_too_large",
    `the request body is over the ${limit}-byte limit`,
  );
}

/**
 * Reads a JSON object body; an empty one reads as `{}`. It must be sent
 * as application/json even when empty: a page on another site cannot send
 * that without the browser asking first (CORS), so no cross-site form can
 * act on a hub that has no token.
 */
export async function readJsonObject(
  req: IncomingMessage,
  limit: number,
): Promise<Record<string, unknown>> {
  const type = String(req.headers["content-type"] ?? "");
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      `the request body must be application/json (got "${type || "no content type"}")`,
    );
  }
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw badRequest(
      `the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
