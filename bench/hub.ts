/**
 * `npm run bench:hub`: throughput and latency of the hub with the official
 * SDK as client and worker. The hub runs as its own process (as in
 * production), the worker and client in this one.
 *
 * Flags: --store <spec> (default: a fresh SQLite file), --sizes 100,1000,5000,
 * --dashboard (the hub serves its dashboard and a headless Chromium keeps
 * the instance list open, refreshing, for the whole run), --dashboard-poll
 * (the same requests the list page makes, every 2 s, without a browser).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import {
  NoOpLogger,
  TaskHubGrpcClient,
  TaskHubGrpcWorker,
  whenAll,
  type ActivityContext,
  type OrchestrationContext,
  type TOrchestrator,
} from "@microsoft/durabletask-js";

const { values } = parseArgs({
  options: {
    store: { type: "string" },
    sizes: { type: "string", default: "100,1000,5000" },
    "fan-out-only": { type: "boolean", default: false },
    hubs: { type: "string", default: "1" },
    "latency-only": { type: "boolean", default: false },
    dashboard: { type: "boolean", default: false },
    "dashboard-poll": { type: "boolean", default: false },
  },
});

const withDashboard = values.dashboard || values["dashboard-poll"];

const double = (_: ActivityContext, i: number): number => i * 2;

const fanOut: TOrchestrator = async function* (
  ctx: OrchestrationContext,
  n: number,
): any {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ctx.callActivity(double, i));
  const results: number[] = yield whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
};

const single: TOrchestrator = async function* (ctx: OrchestrationContext): any {
  return yield ctx.callActivity(double, 21);
};

const chain: TOrchestrator = async function* (ctx: OrchestrationContext): any {
  let x = 1;
  for (let i = 0; i < 3; i++) x = yield ctx.callActivity(double, x);
  return x;
};

interface Hub {
  address: string;
  /** The dashboard's URL, when it serves one. */
  dashboard: string | undefined;
  pid: number;
  stop(): Promise<void>;
}

async function startHub(store: string): Promise<Hub> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.DURASCRIBE_BENCH_HUB_NODE_ARGS?.split(" ") ?? []),
      "bin/durascribe.js",
      "hub",
      "--port",
      "0",
      "--store",
      store,
      "--log-level",
      "warn",
      ...(withDashboard ? ["--dashboard-port", "0"] : ["--no-dashboard"]),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  const [address, dashboard] = await new Promise<[string, string | undefined]>(
    (resolve, reject) => {
      child.once("exit", (code) =>
        reject(new Error(`hub exited with ${code}`)),
      );
      let grpc: string | undefined;
      lines.on("line", (line) => {
        const m = /^hub listening on (.+)$/.exec(line);
        if (m) grpc = m[1]!;
        const d = /^dashboard on (.+)$/.exec(line);
        if (grpc && !withDashboard) resolve([grpc, undefined]);
        if (grpc && d) resolve([grpc, d[1]!]);
      });
    },
  );
  process.once("exit", () => child.kill("SIGKILL"));
  return {
    address,
    dashboard,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/**
 * Keeps the dashboard's instance list open for the run: a real page in
 * headless Chromium (it refreshes itself every 2 s), or, with `browser`
 * false, the same two requests from here every 2 s.
 */
async function watchDashboard(
  url: string,
  browser: boolean,
): Promise<{ stop(): Promise<void> }> {
  let refreshes = 0;
  if (!browser) {
    const poll = (): void => {
      refreshes++;
      void Promise.all(
        ["/api/counts", "/api/instances?limit=50"].map((p) =>
          fetch(url + p).then((r) => r.arrayBuffer()),
        ),
      );
    };
    const timer = setInterval(poll, 2000);
    poll();
    return {
      stop: () => {
        clearInterval(timer);
        console.log(`dashboard: the list's requests polled ${refreshes} times`);
        return Promise.resolve();
      },
    };
  }
  // Loaded only for this mode: it brings playwright-core with it.
  const { launchBrowser } = await import("../test/hub/http/support.js");
  const chromium = await launchBrowser();
  const { context } = chromium;
  const page = await context.newPage();
  page.on("request", (r) => {
    if (r.url().includes("/api/instances")) refreshes++;
  });
  await page.goto(`${url}/`);
  await page.locator(".count-value").first().waitFor();
  return {
    stop: async () => {
      await chromium.close();
      console.log(
        `dashboard: the list page refreshed ${refreshes} times in Chromium`,
      );
    },
  };
}

/**
 * CPU time the hub processes have used, in ms. Unlike throughput, it does
 * not move with what else the machine runs, so it shows what the hub
 * itself spends (on the dashboard too).
 */
function hubCpuMs(hubs: Hub[]): number {
  let ticks = 0;
  for (const h of hubs) {
    const stat = readFileSync(`/proc/${h.pid}/stat`, "utf8");
    // Fields after "pid (comm) ": state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  // Linux reports clock ticks of 10 ms (USER_HZ 100).
  return ticks * 10;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "durascribe-bench-"));
  const store = values.store ?? `sqlite:${join(dir, "hub.db")}`;
  const hubCount = Number(values.hubs);
  if (hubCount > 1 && store.startsWith("sqlite:")) {
    throw new Error("--hubs > 1 needs a shared store: --store postgres://...");
  }
  // Several hubs share the store; each gets a worker, the client uses the first.
  const hubs: Hub[] = [];
  for (let i = 0; i < hubCount; i++) hubs.push(await startHub(store));
  const hub = hubs[0]!;
  const workers = hubs.map((h) => {
    const w = new TaskHubGrpcWorker({
      hostAddress: h.address,
      logger: new NoOpLogger(),
    });
    w.addOrchestrator(fanOut);
    w.addOrchestrator(single);
    w.addOrchestrator(chain);
    w.addActivity(double);
    return w;
  });
  for (const w of workers) await w.start();
  const client = new TaskHubGrpcClient({
    hostAddress: hub.address,
    logger: new NoOpLogger(),
  });
  const watcher = hub.dashboard
    ? await watchDashboard(hub.dashboard, values.dashboard)
    : undefined;
  if (hub.dashboard) {
    console.log(
      `dashboard: ${hub.dashboard}, ${values.dashboard ? "the instance list open in Chromium" : "polling the list's requests"} during the run`,
    );
  }

  if (values["latency-only"]) {
    for (let i = 0; i < 3; i++) {
      const id = await client.scheduleNewOrchestration(fanOut, 1000);
      await client.waitForOrchestrationCompletion(id, false, 600);
    }
    for (let i = 0; i < 50; i++) {
      const id = await client.scheduleNewOrchestration(single);
      await client.waitForOrchestrationCompletion(id, false, 60);
    }
    const lat: number[] = [];
    for (let i = 0; i < 101; i++) {
      const t0 = performance.now();
      const id = await client.scheduleNewOrchestration(single);
      await client.waitForOrchestrationCompletion(id, false, 60);
      lat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    console.log(
      `latency median ${lat[50]!.toFixed(2)} ms p90 ${lat[90]!.toFixed(2)} ms`,
    );
    await watcher?.stop();
    for (const w of workers) await w.stop();
    await client.stop();
    for (const h of hubs) await h.stop();
    rmSync(dir, { recursive: true, force: true });
    return;
  }

  // Warm up both processes' JIT first; the figures below are steady state.
  for (let i = 0; i < 3; i++) {
    const id = await client.scheduleNewOrchestration(fanOut, 1000);
    await client.waitForOrchestrationCompletion(id, false, 600);
  }
  console.log(
    `store: ${store.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")}, ${hubCount} hub process(es)`,
  );
  console.log(
    "fan-out/fan-in (one orchestration, N activities; after 3 warm-up runs of N=1000)",
  );
  for (const n of values.sizes.split(",").map(Number)) {
    // Several runs per size; the median is the figure, the range its spread.
    const runs = n >= 5000 ? 3 : 5;
    const rates: number[] = [];
    const cpu0 = hubCpuMs(hubs);
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const id = await client.scheduleNewOrchestration(fanOut, n);
      const s = await client.waitForOrchestrationCompletion(id, true, 600);
      const secs = (performance.now() - t0) / 1000;
      if (s?.serializedOutput !== String(n * (n - 1))) {
        throw new Error(`N=${n}: wrong result ${s?.serializedOutput}`);
      }
      rates.push(n / secs);
    }
    rates.sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)]!;
    const cpuPer1000 = ((hubCpuMs(hubs) - cpu0) / (n * runs)) * 1000;
    console.log(
      `  N=${String(n).padStart(5)}  median ${median.toFixed(0)} activities/s (${(n / median).toFixed(2)} s)  range ${rates[0]!.toFixed(0)}-${rates.at(-1)!.toFixed(0)} over ${runs} runs; hub CPU ${cpuPer1000.toFixed(0)} ms per 1000 activities`,
    );
  }

  if (values["fan-out-only"]) {
    await watcher?.stop();
    for (const w of workers) await w.stop();
    await client.stop();
    for (const h of hubs) await h.stop();
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const id = await client.scheduleNewOrchestration(single);
    await client.waitForOrchestrationCompletion(id, false, 60);
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  const median = (latencies[24]! + latencies[25]!) / 2;
  console.log(
    `one-activity orchestration latency: median ${median.toFixed(2)} ms, p90 ${latencies[44]!.toFixed(2)} ms (50 sequential runs)`,
  );

  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: 500 }, () => client.scheduleNewOrchestration(chain)),
  );
  for (const id of ids) {
    await client.waitForOrchestrationCompletion(id, false, 600);
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `500 orchestrations x 3 sequential activities: ${secs.toFixed(2)} s, ${(1500 / secs).toFixed(0)} activities/s`,
  );

  console.log(
    `hub peak RSS: ${hubs.map((h) => peakRssMb(h.pid).toFixed(0)).join(", ")} MB`,
  );
  await watcher?.stop();
  for (const w of workers) await w.stop();
  await client.stop();
  for (const h of hubs) await h.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
