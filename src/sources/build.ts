/**
 * Microsoft Build session codes: `GET {base}/api/session/en-US-{CODE}`
 * answers the session as JSON, with its `title` and, once the recording
 * is published, a `downloadVideoLink` to an MP4.
 */
import { PermanentMediaError, TransientError } from "../errors.js";

/** Default base URL of the Build sessions API. */
export const DEFAULT_BUILD_API_URL = "https://api-v2.build.microsoft.com";

/** Options of {@link BuildApi}. */
export interface BuildApiOptions {
  /** @default DEFAULT_BUILD_API_URL */
  baseUrl?: string;
  /** The fetch to use; tests and proxies inject their own. */
  fetch?: typeof fetch;
  /** Time allowed for one request, headers and body. @default 15_000 */
  timeoutMs?: number;
  /** Requests made in all when the API answers 5xx or fails. @default 3 */
  attempts?: number;
  /** First delay between attempts; doubles each time. @default 500 */
  backoffMs?: number;
}

/** What a session resolves to. */
export interface BuildSession {
  code: string;
  title: string;
  mediaUrl: string;
}

/** Looks up Build session codes. */
export class BuildApi {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: BuildApiOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BUILD_API_URL).replace(
      /\/+$/,
      "",
    );
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * The session `code` and its video.
   *
   * @throws PermanentMediaError `E_SOURCE_UNKNOWN_SESSION` (404),
   *   `E_SOURCE_NO_VIDEO` (no downloadVideoLink yet), `E_SOURCE_LOOKUP` (a
   *   4xx or an answer that is not a session).
   * @throws TransientError `E_SOURCE_LOOKUP` after the last 5xx or failed
   *   request.
   */
  async session(code: string): Promise<BuildSession> {
    const url = `${this.baseUrl}/api/session/en-US-${encodeURIComponent(code)}`;
    const attempts = this.options.attempts ?? 3;
    let delay = this.options.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        return parseSession(code, url, await this.getJson(code, url));
      } catch (err) {
        if (!(err instanceof TransientError) || attempt >= attempts) throw err;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }

  private async getJson(code: string, url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetch(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (err) {
      throw new TransientError(
        `Build session ${code}: request to ${url} failed: ${errorText(err)}`,
        "E_SOURCE_LOOKUP",
      );
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw new PermanentMediaError(
        `Build session ${code} does not exist (${url} answered 404)`,
        "E_SOURCE_UNKNOWN_SESSION",
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      const text = `Build session ${code}: ${url} answered ${response.status}`;
      if (response.status >= 500 || response.status === 429) {
        throw new TransientError(text, "E_SOURCE_LOOKUP");
      }
      throw new PermanentMediaError(text, "E_SOURCE_LOOKUP");
    }
    try {
      return await response.json();
    } catch (err) {
      throw new TransientError(
        `Build session ${code}: ${url} answered with a body that is not JSON (${errorText(err)})`,
        "E_SOURCE_LOOKUP",
      );
    }
  }
}

function parseSession(code: string, url: string, body: unknown): BuildSession {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new PermanentMediaError(
      `Build session ${code} does not exist (${url} answered no session object)`,
      "E_SOURCE_UNKNOWN_SESSION",
    );
  }
  const fields = body as Record<string, unknown>;
  const title =
    typeof fields.title === "string" && fields.title.trim() !== ""
      ? fields.title.trim()
      : code;
  const link = fields.downloadVideoLink;
  if (typeof link !== "string" || !/^https?:\/\//i.test(link)) {
    throw new PermanentMediaError(
      `Build session ${code} ("${title}") has no downloadable video yet (no downloadVideoLink)`,
      "E_SOURCE_NO_VIDEO",
    );
  }
  return { code, title, mediaUrl: link };
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error
      ? `${err.message}: ${cause.message}`
      : err.message;
  }
  return String(err);
}
