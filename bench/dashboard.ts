/**
 * `npm run bench:dashboard`: how long the dashboard's API takes on the
 * hub's side (the Server-Timing it reports) with many instances in the
 * store. A hub with its dashboard runs in this process; the SDK fills the
 * store with real instances of several statuses and names, then each
 * query the pages make is timed.
 *
 * Flags: --store <spec> (default: a fresh SQLite file), --instances 10000,
 * --runs 21 (timings per query).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  NoOpLogger,
  TaskHubGrpcClient,
  TaskHubGrpcWorker,
  type OrchestrationContext,
  type TOrchestrator,
} from "@microsoft/durabletask-js";
import { HubMetrics } from "../src/hub/http/metrics.js";
import { DashboardServer } from "../src/hub/http/server.js";
import { HubServer } from "../src/hub/server.js";
import { openStore } from "../src/hub/store/open.js";

const { values } = parseArgs({
  options: {
    store: { type: "string" },
    instances: { type: "string", default: "10000" },
    runs: { type: "string", default: "21" },
  },
});

const LIMIT_MS = 500;

const echo: TOrchestrator = async function* (
  _: OrchestrationContext,
  input: unknown,
): any {
  return input;
};

const failing: TOrchestrator = async function* (): any {
  throw new Error("fails on purpose");
};

const waiter: TOrchestrator = async function* (ctx: OrchestrationContext): any {
  ctx.setCustomStatus({ phase: "waiting" });
  return yield ctx.waitForExternalEvent("go");
};

/** Kinds of instance the store is filled with, as shares of the total. */
const MIX: { name: string; share: number; orchestrator: TOrchestrator }[] = [
  { name: "echo", share: 0.8, orchestrator: echo },
  { name: "failing", share: 0.1, orchestrator: failing },
  { name: "waiter", share: 0.1, orchestrator: waiter },
];

async function fill(client: TaskHubGrpcClient, total: number): Promise<void> {
  const t0 = performance.now();
  let n = 0;
  for (const kind of MIX) {
    const count = Math.round(total * kind.share);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(`${kind.name}-${String(n++).padStart(6, "0")}`);
    }
    // In chunks, so the client does not open thousands of calls at once.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await Promise.all(
        chunk.map((id) =>
          client.scheduleNewOrchestration(kind.orchestrator, { id }, id),
        ),
      );
      await Promise.all(
        chunk.map((id) =>
          kind.name === "waiter"
            ? client.waitForOrchestrationStart(id, false, 600)
            : client.waitForOrchestrationCompletion(id, false, 600),
        ),
      );
    }
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `filled the store with ${n} instances in ${secs.toFixed(1)} s (${MIX.map((k) => `${Math.round(k.share * 100)}% ${k.name}`).join(", ")})`,
  );
}

async function serverMs(url: string): Promise<number> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  const timing = res.headers.get("server-timing") ?? "";
  const ms = Number(/dur=([\d.]+)/.exec(timing)?.[1]);
  if (!Number.isFinite(ms)) throw new Error(`${url}: no Server-Timing`);
  return ms;
}

async function cursorAfter(base: string, pages: number): Promise<string> {
  let cursor = "";
  for (let i = 0; i < pages; i++) {
    const res = await fetch(`${base}/api/instances?limit=50&cursor=${cursor}`);
    const body = (await res.json()) as { nextCursor: string | null };
    cursor = body.nextCursor ?? "";
  }
  return cursor;
}

async function main(): Promise<void> {
  const total = Number(values.instances);
  const runs = Number(values.runs);
  const dir = mkdtempSync(join(tmpdir(), "durascribe-bench-dash-"));
  const spec = values.store ?? `sqlite:${join(dir, "hub.db")}`;
  const metrics = new HubMetrics();
  const hub = new HubServer({
    store: await openStore(spec),
    port: 0,
    observer: metrics,
  });
  await hub.start();
  const dashboard = new DashboardServer({ hub, port: 0, metrics });
  await dashboard.start();
  const address = `127.0.0.1:${hub.port}`;
  const worker = new TaskHubGrpcWorker({
    hostAddress: address,
    logger: new NoOpLogger(),
  });
  for (const k of MIX) worker.addOrchestrator(k.orchestrator);
  await worker.start();
  const client = new TaskHubGrpcClient({
    hostAddress: address,
    logger: new NoOpLogger(),
  });

  console.log(`store: ${spec.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")}`);
  await fill(client, total);
  const from = new Date(Date.now() - 5000).toISOString();
  const base = dashboard.url;
  const deep = await cursorAfter(base, 100);
  const queries: [string, string][] = [
    ["list, first page (newest first, 50)", "/api/instances?limit=50"],
    ["list, page 101 by cursor", `/api/instances?limit=50&cursor=${deep}`],
    ["list, status RUNNING", "/api/instances?limit=50&status=RUNNING"],
    [
      "list, status FAILED,TERMINATED",
      "/api/instances?limit=50&status=FAILED,TERMINATED",
    ],
    ["list, name failing", "/api/instances?limit=50&name=failing"],
    ["list, id prefix waiter-", "/api/instances?limit=50&prefix=waiter-"],
    [
      "list, created in the last 5 s",
      `/api/instances?limit=50&createdFrom=${from}`,
    ],
    ["list, top-level only", "/api/instances?limit=50&topLevel=true"],
    ["list, id order", "/api/instances?limit=50&order=id"],
    ["counts by status, all", "/api/counts"],
    ["counts by status, name waiter", "/api/counts?name=waiter"],
    ["metrics", "/metrics"],
  ];
  console.log(
    `server time per request (Server-Timing), ${runs} runs each, ${total} instances; limit ${LIMIT_MS} ms`,
  );
  let worst = 0;
  for (const [label, path] of queries) {
    await serverMs(base + path);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await serverMs(base + path));
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const max = times.at(-1)!;
    if (!path.startsWith("/metrics")) worst = Math.max(worst, max);
    console.log(
      `  ${label.padEnd(36)} median ${median.toFixed(2).padStart(7)} ms  max ${max.toFixed(2).padStart(7)} ms`,
    );
  }
  console.log(
    `slowest list or count request: ${worst.toFixed(2)} ms: ${worst <= LIMIT_MS ? "within" : "OVER"} the ${LIMIT_MS} ms limit`,
  );

  // What an open instance list costs the hub: the two requests it makes on
  // every refresh, as a share of the refresh interval (an upper bound on
  // the CPU it takes: server time includes waiting for the store).
  const refresh: number[] = [];
  for (let i = 0; i < runs; i++) {
    refresh.push(
      (await serverMs(`${base}/api/counts`)) +
        (await serverMs(`${base}/api/instances?limit=50`)),
    );
  }
  refresh.sort((a, b) => a - b);
  const perRefresh = refresh[Math.floor(refresh.length / 2)]!;
  console.log(
    `an open instance list: ${perRefresh.toFixed(2)} ms of hub time per 2 s refresh (median), ${((100 * perRefresh) / 2000).toFixed(2)}% of one core`,
  );

  await worker.stop();
  await client.stop();
  await dashboard.stop();
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
