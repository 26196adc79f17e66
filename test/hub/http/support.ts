/**
 * Test setup for the dashboard: a real hub (SQLite or PostgreSQL, as the
 * hub suite chooses) with its dashboard on a free loopback port, the SDK
 * as worker and client, and Debian's Chromium driven by playwright-core.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  TaskHubGrpcClient,
  TaskHubGrpcWorker,
} from "@microsoft/durabletask-js";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { HubMetrics } from "../../../src/hub/http/metrics.js";
import { DashboardServer } from "../../../src/hub/http/server.js";
import { sdkClient, sdkWorker, startHub, type TestHub } from "../helpers.js";
import { transcribeBatch, transcribeVideo } from "./workflow.js";

/** A hub with its dashboard, a worker and a client. */
export interface DashboardHub {
  hub: TestHub;
  dashboard: DashboardServer;
  /** e.g. `http://127.0.0.1:41234`. */
  url: string;
  client: TaskHubGrpcClient;
  worker: TaskHubGrpcWorker;
  stop(): Promise<void>;
}

/**
 * Starts everything; `register` adds the test's orchestrations next to the
 * workflow stand-ins.
 */
export async function startDashboardHub(
  opts: {
    token?: string;
    refreshMs?: number;
    register?: (w: TaskHubGrpcWorker) => void;
  } = {},
): Promise<DashboardHub> {
  const metrics = new HubMetrics();
  const hub = await startHub({ token: opts.token, observer: metrics });
  const dashboard = new DashboardServer({
    hub: hub.server,
    port: 0,
    token: opts.token,
    metrics,
    refreshMs: opts.refreshMs ?? 500,
  });
  await dashboard.start();
  const worker = await sdkWorker(
    hub.address,
    (w) => {
      w.addOrchestrator(transcribeBatch);
      w.addOrchestrator(transcribeVideo);
      opts.register?.(w);
    },
    { token: opts.token },
  );
  const client = sdkClient(hub.address, { token: opts.token });
  return {
    hub,
    dashboard,
    url: dashboard.url,
    client,
    worker,
    stop: async () => {
      await worker.stop();
      await client.stop();
      await dashboard.stop();
      await hub.stop();
    },
  };
}

/** The answer of an API call: status, headers and parsed JSON body. */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Calls the dashboard over HTTP; a body object is sent as JSON. */
export async function call(
  base: string,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    token?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body =
      typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  }
  const res = await fetch(base + path, {
    method: init.method ?? "GET",
    headers,
    body,
    redirect: "manual",
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** The API path of an instance. */
export function instancePath(id: string, sub = ""): string {
  return `/api/instances/${encodeURIComponent(id)}${sub ? `/${sub}` : ""}`;
}

const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** Where screenshots go: test-artifacts/dashboard/ in the repository. */
export const artifactsDir = join(root, "test-artifacts", "dashboard");

/** A headless Debian Chromium with a fresh profile, closed by `close`. */
export async function launchBrowser(): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), "durascribe-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({
    path: join(artifactsDir, `${name}.png`),
    fullPage: true,
  });
}
