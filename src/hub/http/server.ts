/**
 * The hub's HTTP side: the dashboard's pages, its JSON API under `/api`,
 * `/healthz` and `/metrics`. It binds the hub's host, and with a hub token
 * every route but `/healthz`, the sign-in page and the static assets needs
 * it: as a bearer header (API clients, Prometheus) or a session cookie
 * (browsers, from the sign-in form).
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { HubServer } from "../server.js";
import { errorText } from "../dispatch/dispatcher.js";
import { Logger, silentLogger } from "../../logger.js";
import { handleApi } from "./api.js";
import { Auth, safeNext, signInPage } from "./auth.js";
import type { HubMetrics } from "./metrics.js";
import {
  HttpError,
  SECURITY_HEADERS,
  readBody,
  requireSameOrigin,
  sendError,
  sendJson,
  toHttpError,
} from "./respond.js";
import { loadAssets, type Asset } from "./static.js";
import { locationReader, type LocationReader } from "./transcript.js";

/** Options of the dashboard server. */
export interface DashboardOptions {
  /** The hub whose task hubs it shows and acts on. */
  hub: HubServer;
  /** Default: the hub's host. */
  host?: string;
  /** Default 8082; 0 picks a free port. */
  port?: number;
  /** The hub's token; unset, nothing asks for one. */
  token?: string;
  /** Metrics the hub's dispatch reports to; without, /metrics is 404. */
  metrics?: HubMetrics;
  /** Reads transcript locations that are not local files (blob URLs). */
  readRemote?: LocationReader;
  /** How often pages refresh; default 2000 ms. */
  refreshMs?: number;
  logger?: Logger;
}

/** Default port of the dashboard, as the Durable Task Scheduler emulator's. */
export const DEFAULT_DASHBOARD_PORT = 8082;

// Paths that serve the single-page shell; the script picks the view.
const PAGES = new Set(["/", "/instance", "/transcript"]);

/** A running dashboard. */
export class DashboardServer {
  private readonly server: Server;
  private readonly auth: Auth;
  private readonly assets: Map<string, Asset>;
  private readonly read: LocationReader;
  private readonly log: Logger;
  private boundPort = 0;

  constructor(private readonly options: DashboardOptions) {
    this.auth = new Auth(options.token);
    this.assets = loadAssets();
    this.read = locationReader(options.readRemote);
    this.log = (options.logger ?? silentLogger).child({
      component: "dashboard",
    });
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /** The host the dashboard listens on. */
  get host(): string {
    return this.options.host ?? this.options.hub.host;
  }

  /** The port it listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** Its address, e.g. `http://127.0.0.1:8082`. */
  get url(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}`;
  }

  /** Binds and starts serving. */
  async start(): Promise<void> {
    const port = this.options.port ?? DEFAULT_DASHBOARD_PORT;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) =>
        reject(
          new Error(
            `cannot listen on ${this.host}:${port} for the dashboard: ${err.message} (use --dashboard-port to pick another port, or --no-dashboard)`,
          ),
        );
      this.server.once("error", fail);
      this.server.listen(port, this.host, () => {
        this.server.off("error", fail);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  /** Stops serving; open connections are closed. */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) =>
      this.server.close(() => resolve()),
    );
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const t0 = performance.now();
    try {
      await this.route(req, res, requestUrl(req), t0);
    } catch (err) {
      const e = toHttpError(err);
      if (e.status >= 500) {
        this.log.error("request failed", {
          path: req.url,
          error: errorText(err),
        });
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, e, timing(t0));
    }
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    t0: number,
  ): Promise<void> {
    const path = url.pathname;
    this.checkHost(req);
    if (req.method !== "GET" && req.method !== "HEAD") requireSameOrigin(req);
    if (path === "/healthz") return this.health(res);
    if (path.startsWith("/assets/")) return this.asset(req, res, path.slice(8));
    if (path === "/login") return this.login(req, res, url);
    if (path === "/logout") return this.logout(req, res);
    if (!this.auth.allows(req)) return this.refuse(req, res, url);
    if (path.startsWith("/api/")) {
      stampServerTiming(res, t0);
      return handleApi({
        req,
        res,
        url,
        hub: this.options.hub,
        read: this.read,
        refreshMs: this.options.refreshMs ?? 2000,
        authRequired: this.auth.required,
      });
    }
    if (path === "/metrics" && this.options.metrics) {
      stampServerTiming(res, t0);
      return this.metricsPage(req, res);
    }
    if (PAGES.has(path)) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        throw new HttpError(405, "method_not_allowed", `${path} takes GET`);
      }
      return this.serveAsset(req, res, this.assets.get("index.html")!);
    }
    throw new HttpError(404, "not_found", `nothing at ${path}`);
  }

  /**
   * On loopback without a token, only loopback names may be used: a page
   * on another site whose name it points at 127.0.0.1 (DNS rebinding)
   * would otherwise read and act as if it were the dashboard's own.
   */
  private checkHost(req: IncomingMessage): void {
    if (this.auth.required || !isLoopback(this.host)) return;
    const host = req.headers.host ?? "";
    const name = host.startsWith("[")
      ? host.slice(0, host.indexOf("]") + 1)
      : host.replace(/:\d+$/, "");
    if (!isLoopback(name)) {
      throw new HttpError(
        403,
        "forbidden",
        `this dashboard answers to localhost names only, not "${host}"; give the hub a --token to serve it under other names`,
      );
    }
  }

  private async health(res: ServerResponse): Promise<void> {
    // A key lookup proves the store answers without costing it anything.
    try {
      await this.options.hub
        .taskHub("default")
        .dispatcher.store.getInstance("");
      sendJson(res, 200, { status: "ok" });
    } catch (err) {
      sendJson(res, 503, { status: "unavailable", error: errorText(err) });
    }
  }

  private async metricsPage(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, "method_not_allowed", "/metrics takes GET");
    }
    const text = await this.options.metrics!.render(this.options.hub);
    res.writeHead(200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
    res.end(text);
  }

  private refuse(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const browser =
      !url.pathname.startsWith("/api/") &&
      url.pathname !== "/metrics" &&
      !this.auth.triedBearer(req) &&
      req.method === "GET";
    if (browser) {
      const next = encodeURIComponent(url.pathname + url.search);
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        location: `/login?next=${next}`,
      });
      res.end();
      return;
    }
    const message = this.auth.triedBearer(req)
      ? "the bearer token is not valid for this hub"
      : "this hub requires `Authorization: Bearer <token>`";
    sendError(res, new HttpError(401, "unauthenticated", message), {
      "www-authenticate": 'Bearer realm="durascribe"',
    });
  }

  private async login(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    if (req.method === "GET") {
      const next = safeNext(url.searchParams.get("next"));
      if (!this.auth.required) return this.redirect(res, next);
      return this.html(res, 200, signInPage(next, false));
    }
    if (req.method !== "POST") {
      throw new HttpError(
        405,
        "method_not_allowed",
        "/login takes GET or POST",
      );
    }
    const form = new URLSearchParams(
      (await readBody(req, 8192)).toString("utf8"),
    );
    const next = safeNext(form.get("next"));
    if (!this.auth.isToken(form.get("token") ?? "")) {
      return this.html(res, 401, signInPage(next, true));
    }
    res.setHeader("set-cookie", this.auth.signInCookie());
    this.redirect(res, next);
  }

  private async logout(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (req.method !== "POST") {
      throw new HttpError(405, "method_not_allowed", "/logout takes POST");
    }
    await readBody(req, 8192);
    res.setHeader("set-cookie", this.auth.signOutCookie());
    this.redirect(res, this.auth.required ? "/login" : "/");
  }

  private redirect(res: ServerResponse, location: string): void {
    res.writeHead(303, { ...SECURITY_HEADERS, location });
    res.end();
  }

  private html(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
    });
    res.end(body);
  }

  private asset(req: IncomingMessage, res: ServerResponse, name: string): void {
    const asset = name === "index.html" ? undefined : this.assets.get(name);
    if (!asset) throw new HttpError(404, "not_found", `no asset ${name}`);
    this.serveAsset(req, res, asset);
  }

  private serveAsset(
    req: IncomingMessage,
    res: ServerResponse,
    asset: Asset,
  ): void {
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, { etag: asset.etag });
      res.end();
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": asset.type,
      "content-length": asset.body.length,
      etag: asset.etag,
      "cache-control": "no-cache",
    });
    res.end(req.method === "HEAD" ? undefined : asset.body);
  }
}

/** The request's path and query; only origin-form targets are served. */
function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? "/";
  if (!target.startsWith("/")) {
    throw new HttpError(
      400,
      "invalid_argument",
      "the request target must be a path",
    );
  }
  // Joined, not resolved: a path starting with "//" stays a path.
  return new URL(`http://dashboard.invalid${target}`);
}

function isLoopback(host: string): boolean {
  return (
    host === "localhost" ||
    host === "[::1]" ||
    host === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}

function serverTiming(t0: number): string {
  return `app;dur=${(performance.now() - t0).toFixed(2)}`;
}

function timing(t0: number): Record<string, string> {
  return { "server-timing": serverTiming(t0) };
}

/**
 * Stamps the server time on a response as its head is written, so API
 * clients (and the benchmark) read how long the hub itself took.
 */
function stampServerTiming(res: ServerResponse, t0: number): void {
  const writeHead = res.writeHead.bind(res) as (
    ...a: unknown[]
  ) => ServerResponse;
  res.writeHead = (...args: unknown[]) => {
    res.setHeader("server-timing", serverTiming(t0));
    return writeHead(...args);
  };
}
