/**
 * One HTTP GET with the timeouts a long download needs, following
 * redirects. Used by fetch.ts; kept apart so each file reads on its own.
 *
 * Built on node:http/node:https rather than global fetch because the
 * download needs what fetch hides: a connect timeout separate from the
 * idle timeout (fetch's signal only bounds the whole request), the raw
 * Content-Length of an undecoded body (fetch decompresses, so byte counts
 * and Range offsets would not match), and a clear error when the peer
 * closes before the body is complete.
 */
import http from "node:http";
import type { IncomingMessage } from "node:http";
import https from "node:https";

import { PermanentMediaError, TransientError } from "../errors.js";

/** What {@link openUrl} needs besides the URL. */
export interface OpenOptions {
  /** Time allowed from sending the request to an open TCP connection. */
  connectTimeoutMs: number;
  /** Longest silence on the connection, before or during the body. */
  idleTimeoutMs: number;
  /** Extra request headers, such as `Range`. */
  headers: Record<string, string>;
  /** Redirects followed before giving up. */
  maxRedirects: number;
  /** What is fetched, for messages. @default "media" */
  what?: string | undefined;
  /** Aborts the request; its reason is thrown. */
  signal?: AbortSignal | undefined;
}

/** A response whose body is still to be read, and the URL that gave it. */
export interface OpenResponse {
  /** Status and headers are available; the body is unread. */
  response: IncomingMessage;
  /** The URL after redirects. */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GETs `url`, following up to `opts.maxRedirects` redirects, and resolves
 * once the final response's headers arrive. The idle timeout stays armed
 * while the caller reads the body and destroys it with a TransientError.
 */
export async function openUrl(
  url: URL,
  opts: OpenOptions,
): Promise<OpenResponse> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await requestOnce(current, opts);
    const location = response.headers.location;
    const status = response.statusCode ?? 0;
    if (!REDIRECTS.has(status) || location === undefined) {
      return { response, url: current };
    }

    response.destroy();
    if (hop >= opts.maxRedirects) {
      throw new PermanentMediaError(
        `too many redirects fetching ${opts.what ?? "media"} from ${url.href} (more than ${opts.maxRedirects})`,
        "E_FETCH_REDIRECTS",
      );
    }
    current = new URL(location, current);
    if (current.protocol !== "http:" && current.protocol !== "https:") {
      throw new PermanentMediaError(
        `media URL ${url.href} redirected to unsupported ${current.href}`,
        "E_FETCH_REDIRECTS",
      );
    }
  }
}

function requestOnce(url: URL, opts: OpenOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;

    // agent: false gives every request its own socket, so the connect
    // timeout always sees a fresh connection and nothing lingers after.
    const req = client.request(url, {
      method: "GET",
      headers: opts.headers,
      agent: false,
      signal: opts.signal,
    });
    let response: IncomingMessage | undefined;
    const connectTimer = setTimeout(() => {
      req.destroy(
        new TransientError(
          `connect timeout after ${opts.connectTimeoutMs} ms fetching ${url.href}`,
          "E_FETCH_CONNECT_TIMEOUT",
        ),
      );
    }, opts.connectTimeoutMs);

    req.on("socket", (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once("connect", () => clearTimeout(connectTimer));
    });
    req.setTimeout(opts.idleTimeoutMs, () => {
      const err = new TransientError(
        `no data for ${opts.idleTimeoutMs} ms fetching ${url.href}`,
        "E_FETCH_IDLE_TIMEOUT",
      );
      // Destroy the response first so its reader sees this error, not
      // the generic "aborted" the closing socket would give it.
      response?.destroy(err);
      req.destroy(err);
    });
    req.on("response", (res) => {
      clearTimeout(connectTimer);
      response = res;
      resolve(res);
    });
    req.on("error", (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
    req.on("close", () => clearTimeout(connectTimer));
    req.end();
  });
}

/** The Content-Length header as a number, if present and valid. */
export function contentLength(res: IncomingMessage): number | undefined {
  const value = res.headers["content-length"];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Start offset and full size (when not `*`) from a Content-Range header. */
export function contentRange(
  res: IncomingMessage,
): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(
    res.headers["content-range"] ?? "",
  );
  if (match === null) return undefined;
  const [, start = "", total = "*"] = match;
  return {
    start: Number(start),
    total: total === "*" ? undefined : Number(total),
  };
}

/** A validator safe for If-Range: a strong ETag, else Last-Modified. */
export function strongValidator(res: IncomingMessage): string | undefined {
  const etag = res.headers.etag;
  if (etag !== undefined && !etag.startsWith("W/")) return etag;
  return res.headers["last-modified"];
}
