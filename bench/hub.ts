/**
 * `npm run bench:hub`: throughput and latency of the hub with the official
 * SDK as client and worker. The hub runs as its own process (as in
 * production), the worker and client in this one.
 *
 * Flags: --store <spec> (default: a fresh SQLite file), --sizes 100,1000,5000
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
  },
});

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
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  const address = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`hub exited with ${code}`)));
    lines.on("line", (line) => {
      const m = /^hub listening on (.+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
  });
  process.once("exit", () => child.kill("SIGKILL"));
  return {
    address,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
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
    for (const w of workers) await w.stop();
    await client.stop();
    for (const h of hubs) await h.stop();
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
    console.log(
      `  N=${String(n).padStart(5)}  median ${median.toFixed(0)} activities/s (${(n / median).toFixed(2)} s)  range ${rates[0]!.toFixed(0)}-${rates.at(-1)!.toFixed(0)} over ${runs} runs`,
    );
  }

  if (values["fan-out-only"]) {
    for (const w of workers) await w.stop();
    await client.stop();
    for (const h of hubs) await h.stop();
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
  for (const w of workers) await w.stop();
  await client.stop();
  for (const h of hubs) await h.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
