/**
 * Getting the media behind a source onto local disk: an http(s) download
 * that survives flaky networks, or a local file used where it lies.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";

import {
  DurascribeError,
  PermanentMediaError,
  TransientError,
} from "../errors.js";
import {
  contentLength,
  contentRange,
  openUrl,
  strongValidator,
} from "./http.js";
import { localMedia } from "./local-media.js";

/** Options of {@link fetchMedia}; every one has a default. */
export interface FetchOptions {
  /** Time allowed to open a connection. @default 30_000 */
  connectTimeoutMs?: number;
  /** Longest silence while waiting for headers or body. @default 60_000 */
  idleTimeoutMs?: number;
  /** Requests made in all before giving up, retries included. @default 5 */
  maxAttempts?: number;
  /** First retry delay; doubles each retry, with jitter. @default 1_000 */
  backoffMs?: number;
  /** Longest delay between two attempts. @default 30_000 */
  maxBackoffMs?: number;
  /**
   * Longest wait a 429 or 503's Retry-After may ask for; a longer one is
   * cut to this. @default 120_000
   */
  maxRetryAfterMs?: number;
  /** Largest media accepted, in bytes. @default 10 GiB */
  maxBytes?: number;
  /** Redirects followed per request. @default 10 */
  maxRedirects?: number;
  /** Called as bytes arrive: bytes on disk so far, and the full size if known. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /**
   * Called with each chunk once it is in the temp file, and the offset it
   * was written at; offset 0 after data means the download restarted.
   * Lets a caller hash the bytes as they stream.
   */
  onData?: (chunk: Buffer, offset: number) => void;
  /** Cancels the download; the temp file is removed and the reason thrown. */
  signal?: AbortSignal;
  /** What is fetched, for messages: "media", "model tiny.en". @default "media" */
  what?: string;
}

/** Default for {@link FetchOptions.maxBytes}: 10 GiB. */
export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;

type Settings = Required<
  Omit<FetchOptions, "onProgress" | "onData" | "signal">
> &
  Pick<FetchOptions, "onProgress" | "onData" | "signal">;

/** What one download has on disk so far and what it knows of the media. */
interface Progress {
  /** Bytes in the temp file. */
  received: number;
  /** Full size of the media, once a response has said it. */
  total: number | undefined;
  /** The server serves byte ranges of this media. */
  resumable: boolean;
  /** ETag or Last-Modified, sent as If-Range so a changed file restarts. */
  validator: string | undefined;
}

/**
 * Makes the media at `source` available as a local file and returns its
 * path. An http(s) URL is downloaded to `dest` (through a temp file beside
 * it, renamed on success and removed on failure). A local path or `file:`
 * URL is only checked to be an existing file and returned as an absolute
 * path; nothing is copied and `dest` is unused. Whether the bytes are
 * media at all is for the decoder to find out.
 *
 * @throws PermanentMediaError on a 4xx answer, a missing local file, an
 *   unsupported scheme, or media (downloaded or local) over `maxBytes`.
 * @throws TransientError when the attempts run out on 5xx answers,
 *   timeouts, dropped connections or truncated bodies.
 */
export async function fetchMedia(
  source: string,
  dest: string,
  opts: FetchOptions = {},
): Promise<string> {
  const url = parseSource(source);
  if (url === undefined || url.protocol === "file:") {
    return localMedia(
      url ?? source,
      source,
      opts.maxBytes ?? DEFAULT_MAX_BYTES,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PermanentMediaError(
      `unsupported media URL ${source}: only http, https and file URLs or local paths are accepted`,
      "E_FETCH_SCHEME",
    );
  }
  return download(url, path.resolve(dest), settings(opts));
}

function settings(opts: FetchOptions): Settings {
  return {
    connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
    idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
    maxAttempts: Math.max(1, opts.maxAttempts ?? 5),
    backoffMs: opts.backoffMs ?? 1_000,
    maxBackoffMs: opts.maxBackoffMs ?? 30_000,
    maxRetryAfterMs: opts.maxRetryAfterMs ?? 120_000,
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
    maxRedirects: opts.maxRedirects ?? 10,
    what: opts.what ?? "media",
    onProgress: opts.onProgress,
    onData: opts.onData,
    signal: opts.signal,
  };
}

/** A URL when `source` has a scheme; undefined for a plain path. */
function parseSource(source: string): URL | undefined {
  // A Windows drive letter ("C:\talk.mp4") looks like a one-letter scheme.
  if (!/^[a-z][a-z0-9+.-]+:/i.test(source)) return undefined;
  try {
    return new URL(source);
  } catch {
    return undefined;
  }
}

async function download(url: URL, dest: string, s: Settings): Promise<string> {
  await mkdir(path.dirname(dest), { recursive: true });
  const temp = `${dest}.${randomBytes(6).toString("hex")}.part`;
  const progress: Progress = {
    received: 0,
    total: undefined,
    resumable: false,
    validator: undefined,
  };

  try {
    await attemptUntilDone(url, temp, progress, s);
    await rename(temp, dest);
    return dest;
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * A 429 or 503 whose answer said when to come back (Retry-After): the
 * next attempt waits that long, up to `maxRetryAfterMs`, and never less
 * than the backoff.
 */
class RetryLaterError extends TransientError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message, "E_FETCH_STATUS");
  }
}

/**
 * Milliseconds from now that a Retry-After value names: delay-seconds or
 * an HTTP-date. Undefined when absent or unreadable.
 */
export function retryAfterMs(
  value: string | undefined,
  now = Date.now(),
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names its day and month; Date.parse takes "-5" too.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
async function attemptUntilDone(
  url: URL,
  temp: string,
  progress: Progress,
  s: Settings,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await attemptOnce(url, temp, progress, s);
      return;
    } catch (raw) {
      s.signal?.throwIfAborted();
      const err = retryable(raw, url, s);
      if (err === undefined || err.permanent) throw err ?? raw;
      if (attempt >= s.maxAttempts) throw gaveUp(err, attempt);

      progress.received = await sizeOnDisk(temp);
      const asked =
        err instanceof RetryLaterError
          ? Math.min(err.retryAfterMs, s.maxRetryAfterMs)
          : 0;
      const wait = Math.max(backoff(attempt, s), asked);
      await sleep(wait, undefined, { signal: s.signal });
    }
  }
}

function gaveUp(err: DurascribeError, attempts: number): TransientError {
  return new TransientError(
    `${err.message} (gave up after ${attempts} attempts)`,
    err.code,
    { cause: err },
  );
}

/** One request: resumes from what is on disk when the server allows it. */
async function attemptOnce(
  url: URL,
  temp: string,
  progress: Progress,
  s: Settings,
): Promise<void> {
  // Open before asking, so the first bytes can be written the moment they
  // arrive: bytes that wait on an open are lost if the connection drops.
  const file = await open(temp, "a");
  try {
    const { response } = await openUrl(url, {
      connectTimeoutMs: s.connectTimeoutMs,
      idleTimeoutMs: s.idleTimeoutMs,
      headers: requestHeaders(progress),
      maxRedirects: s.maxRedirects,
      what: s.what,
      signal: s.signal,
    });
    try {
      const onDisk = progress.received;
      const append = acceptResponse(response, url, progress, s);
      if (append === "complete") return;
      // Truncate only when needed: body bytes that arrive during the wait
      // are lost if the connection drops before the body is piped.
      if (!append && onDisk > 0) await file.truncate(0);
      await streamBody(response, url, file, progress, s);
    } finally {
      response.destroy();
    }
  } finally {
    await file.close();
  }
}

function requestHeaders(progress: Progress): Record<string, string> {
  const headers: Record<string, string> = {
    "accept-encoding": "identity",
    "user-agent": "durascribe",
  };
  if (progress.received > 0 && progress.resumable) {
    headers.range = `bytes=${progress.received}-`;
    if (progress.validator !== undefined) {
      headers["if-range"] = progress.validator;
    }
  }
  return headers;
}

/**
 * Checks status and headers, updates `progress`, and says whether the
 * body continues the temp file (true), replaces it (false), or whether
 * the file was already complete.
 */
function acceptResponse(
  res: IncomingMessage,
  url: URL,
  progress: Progress,
  s: Settings,
): boolean | "complete" {
  const status = res.statusCode ?? 0;
  const asked = progress.received > 0 && progress.resumable;
  if (asked && (status === 206 || status === 416)) {
    return acceptPartial(res, url, progress, s);
  }
  checkStatus(status, url, s, res.headers["retry-after"]);

  // A full body: the first request, or the server ignored Range.
  progress.received = 0;
  progress.total = contentLength(res);
  progress.resumable = res.headers["accept-ranges"] === "bytes";
  progress.validator = strongValidator(res);
  checkSize(progress.total, url, s);
  return false;
}

/** A 206 or 416 answer to a Range request. */
function acceptPartial(
  res: IncomingMessage,
  url: URL,
  progress: Progress,
  s: Settings,
): true | "complete" {
  const range = contentRange(res);
  if (res.statusCode === 416 && progress.received === progress.total) {
    return "complete";
  }
  if (res.statusCode === 206 && range?.start === progress.received) {
    progress.total = range.total ?? progress.total;
    checkSize(progress.total, url, s);
    return true;
  }

  // The server's idea of the file no longer matches ours: start over.
  progress.resumable = false;
  throw new TransientError(
    `server answered ${res.statusCode} with range ${JSON.stringify(res.headers["content-range"])} to a request for bytes ${progress.received}- of ${url.href}; restarting the download`,
    "E_FETCH_RANGE",
  );
}

function checkStatus(
  status: number,
  url: URL,
  s: Settings,
  retryAfter: string | undefined,
): void {
  if (status === 408 || status === 429 || status >= 500) {
    const message = `server answered ${status} fetching ${s.what} from ${url.href}`;
    const later =
      status === 429 || status === 503 ? retryAfterMs(retryAfter) : undefined;
    if (later !== undefined) {
      throw new RetryLaterError(
        `${message} (Retry-After: ${retryAfter})`,
        later,
      );
    }
    throw new TransientError(message, "E_FETCH_STATUS");
  }
  if (status !== 200) {
    throw new PermanentMediaError(
      `server answered ${status} fetching ${s.what} from ${url.href}`,
      "E_FETCH_STATUS",
    );
  }
}

function checkSize(total: number | undefined, url: URL, s: Settings): void {
  if (total !== undefined && total > s.maxBytes) {
    throw tooLarge(url, s, `it is ${total} bytes`);
  }
}

function tooLarge(url: URL, s: Settings, detail: string): PermanentMediaError {
  return new PermanentMediaError(
    `${s.what} at ${url.href} is larger than the limit of ${s.maxBytes} bytes (${detail})`,
    "E_MEDIA_TOO_LARGE",
  );
}

/** Writes the body to `file`, counting bytes and enforcing the size cap. */
async function streamBody(
  res: IncomingMessage,
  url: URL,
  file: FileHandle,
  progress: Progress,
  s: Settings,
): Promise<void> {
  const start = progress.received;
  const expected = contentLength(res);
  await pipeline(res, fileSink(url, file, progress, s));

  const got = progress.received - start;
  if (expected !== undefined && got < expected) {
    throw new TransientError(
      `download of ${url.href} truncated: got ${got} of ${expected} bytes`,
      "E_FETCH_TRUNCATED",
    );
  }
}

/**
 * A sink that counts a chunk only once it is written, so after a failure
 * `progress.received` is what the file holds and a resume starts there.
 */
function fileSink(
  url: URL,
  file: FileHandle,
  progress: Progress,
  s: Settings,
): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const at = progress.received;
      const after = at + chunk.length;
      if (after > s.maxBytes) {
        done(tooLarge(url, s, `${after} bytes so far`));
        return;
      }
      file.write(chunk).then(() => {
        progress.received = after;
        s.onData?.(chunk, at);
        s.onProgress?.(after, progress.total);
        done();
      }, done);
    },
  });
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * The error as a DurascribeError when it is one or is a network failure
 * worth retrying; undefined for anything else (a full disk, a bug).
 */
function retryable(
  err: unknown,
  url: URL,
  s: Settings,
): DurascribeError | undefined {
  if (err instanceof DurascribeError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  if (!NETWORK_CODES.has(code) && !code.startsWith("HPE_")) return undefined;
  return new TransientError(
    `network error fetching ${s.what} from ${url.href}: ${(err as Error).message} (${code})`,
    "E_FETCH_NETWORK",
    { cause: err },
  );
}

/** Exponential backoff with jitter, so a fleet does not retry in step. */
function backoff(attempt: number, s: Settings): number {
  const full = Math.min(s.maxBackoffMs, s.backoffMs * 2 ** (attempt - 1));
  return Math.round(full * (0.5 + Math.random() / 2));
}

/** Bytes actually on disk: a failed write may not have flushed all we counted. */
async function sizeOnDisk(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
