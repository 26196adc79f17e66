/**
 * The dashboard's sign-in. With a hub token, the API takes
 * `Authorization: Bearer <token>` and the browser signs in once with a
 * form that sets a session cookie. The cookie holds an HMAC of the token,
 * not the token, so changing the token ends every session.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const COOKIE = "durascribe_session";

/** Checks requests against the hub token (everything passes without one). */
export class Auth {
  private readonly session: string | undefined;

  constructor(private readonly token: string | undefined) {
    this.session =
      token === undefined
        ? undefined
        : createHmac("sha256", token)
            .update("durascribe dashboard session v1")
            .digest("base64url");
  }

  /** Whether a token is needed at all. */
  get required(): boolean {
    return this.token !== undefined;
  }

  /** True when the request carries the bearer token or a session cookie. */
  allows(req: IncomingMessage): boolean {
    if (this.token === undefined) return true;
    const header = req.headers.authorization;
    if (header !== undefined) return same(header, `Bearer ${this.token}`);
    const cookie = cookieValue(req.headers.cookie, COOKIE);
    return cookie !== undefined && same(cookie, this.session!);
  }

  /** Whether the request sent an Authorization header (an API client). */
  triedBearer(req: IncomingMessage): boolean {
    return req.headers.authorization !== undefined;
  }

  /** True when `candidate` is the token. */
  isToken(candidate: string): boolean {
    return this.token !== undefined && same(candidate, this.token);
  }

  /** The Set-Cookie value that signs a browser in. */
  signInCookie(): string {
    return `${COOKIE}=${this.session ?? ""}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** The Set-Cookie value that signs a browser out. */
  signOutCookie(): string {
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(
  header: string | undefined,
  name: string,
): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** A `next` target after sign-in: a path on this site, else `/`. */
export function safeNext(raw: string | null | undefined): string {
  if (
    !raw ||
    !raw.startsWith("/") ||
    raw.startsWith("//") ||
    raw.includes("\\")
  ) {
    return "/";
  }
  return raw;
}

/** The sign-in page. */
export function signInPage(next: string, failed: boolean): string {
  const error = failed
    ? `<p class="error" role="alert" id="signin-error">That token is not valid for this hub.</p>`
    : "";
  const described = failed ? ` aria-describedby="signin-error"` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · durascribe</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<main id="main" class="signin">
<h1>durascribe</h1>
<p>This hub needs its token to show the dashboard.</p>
${error}
<form method="post" action="/login">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="token">Hub token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus${described}>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`;
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}
