/**
 * `durascribe hub` and its dashboard flags, as a real process: the ready
 * line, --dashboard-port, --no-dashboard, and the config behind them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { hubConfig } from "../../../src/config.js";
import { ConfigError } from "../../../src/errors.js";
import { tempDir } from "../helpers.js";
import { spawnNode } from "../process.js";

function hub(dir: string, ...flags: string[]) {
  return spawnNode("bin/durascribe.js", [
    "hub",
    "--port",
    "0",
    "--store",
    `sqlite:${join(dir, "hub.db")}`,
    "--log-level",
    "error",
    ...flags,
  ]);
}

test("the hub serves the dashboard and prints where", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const child = hub(dir, "--dashboard-port", "0");
  t.after(() => child.kill("SIGKILL"));
  await child.line(/^hub listening on /);
  const m = await child.line(/^dashboard on (http:\/\/127\.0\.0\.1:(\d+))$/);
  const health = await fetch(`${m[1]}/healthz`);
  assert.equal(health.status, 200);
  const page = await fetch(`${m[1]}/`);
  assert.match(
    await page.text(),
    /<script type="module" src="\/assets\/app\.js">/,
  );
  child.kill("SIGTERM");
  assert.equal(await child.exited, 0);
});

test("--no-dashboard serves no dashboard", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const child = hub(dir, "--no-dashboard");
  const lines: string[] = [];
  child.proc.stdout!.on("data", (b: Buffer) => lines.push(b.toString()));
  await child.line(/^hub listening on /);
  child.kill("SIGTERM");
  assert.equal(await child.exited, 0);
  assert.doesNotMatch(lines.join(""), /dashboard on/);
});

test("a dashboard port in use stops the hub with a clear error", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const port = (busy.address() as { port: number }).port;
  const child = hub(dir, "--dashboard-port", String(port));
  let stderr = "";
  child.proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  assert.equal(await child.exited, 1);
  assert.match(
    stderr,
    new RegExp(
      `cannot listen on 127\\.0\\.0\\.1:${port} for the dashboard: .*--no-dashboard`,
    ),
  );
});

test("a bad --dashboard-port is a configuration error (exit 2)", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const child = hub(dir, "--dashboard-port", "http");
  let stderr = "";
  child.proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  assert.equal(await child.exited, 2);
  assert.match(stderr, /--dashboard-port "http" is not a port number/);
});

test("the dashboard's settings come from flags first, then the environment", () => {
  const base = { flags: {}, env: {} };
  assert.deepEqual(
    [hubConfig(base).dashboard, hubConfig(base).dashboardPort],
    [true, 8082],
  );
  const env = {
    DURASCRIBE_DASHBOARD_PORT: "9090",
    DURASCRIBE_DASHBOARD: "false",
  };
  assert.equal(hubConfig({ flags: {}, env }).dashboardPort, 9090);
  assert.equal(hubConfig({ flags: {}, env }).dashboard, false);
  assert.equal(
    hubConfig({ flags: { "dashboard-port": "0" }, env }).dashboardPort,
    0,
  );
  assert.equal(
    hubConfig({ flags: { "no-dashboard": true }, env: {} }).dashboard,
    false,
  );
  // A hub on a free port puts its dashboard on one too, unless told.
  assert.equal(hubConfig({ flags: { port: "0" }, env: {} }).dashboardPort, 0);
  assert.equal(
    hubConfig({ flags: { port: "0", "dashboard-port": "9091" }, env: {} })
      .dashboardPort,
    9091,
  );
  assert.throws(
    () => hubConfig({ flags: {}, env: { DURASCRIBE_DASHBOARD: "maybe" } }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /DURASCRIBE_DASHBOARD "maybe" is not true or false/.test(err.message),
  );
});
