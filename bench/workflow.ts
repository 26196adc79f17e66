/**
 * `npm run bench:workflow`: how fast the transcription workflow itself
 * goes (orchestrations, activities, hub) when job executions cost
 * nothing: every video's job completes at once (the test runner), so the
 * figures are the workflow's overhead per video and the ceiling on
 * videos per second.
 *
 * Flags: --sizes 100,1000,5000  --concurrency 16  --max-batch-size 1000
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { OrchestrationStatus } from "@microsoft/durabletask-js";

import { HubServer } from "../src/hub/server.js";
import { openSqliteStore } from "../src/hub/store/sqlite/sqlite-store.js";
import { silentLogger } from "../src/logger.js";
import { BuildApi } from "../src/sources/build.js";
import { createClient } from "../src/workflow/client.js";
import { readBatchResults } from "../src/workflow/results.js";
import { hubConnection } from "../src/workflow/connection.js";
import {
  batchDefaults,
  type BatchInput,
  type BatchResult,
} from "../src/workflow/types.js";
import { createWorker } from "../src/workflow/worker.js";
import { InstantRunner } from "../test/support/instant-runner.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000,5000" },
    concurrency: { type: "string", default: String(batchDefaults.concurrency) },
    "max-batch-size": {
      type: "string",
      default: String(batchDefaults.maxBatchSize),
    },
  },
});

const dir = mkdtempSync(join(tmpdir(), "durascribe-bench-workflow-"));
const server = new HubServer({
  store: openSqliteStore(join(dir, "hub.db")),
  port: 0,
});
await server.start();
const connection = hubConnection({
  endpoint: `http://127.0.0.1:${server.port}`,
  taskHub: "bench",
});
const worker = createWorker({
  connection,
  deps: {
    runner: new InstantRunner(),
    build: new BuildApi({ baseUrl: "http://127.0.0.1:9" }),
    logger: silentLogger,
  },
  logger: silentLogger,
});
await worker.start();
const client = createClient(connection, silentLogger);

console.log(
  `workflow, instant jobs: concurrency ${values.concurrency}, max batch size ${values["max-batch-size"]}`,
);
try {
  for (const n of values.sizes.split(",").map(Number)) {
    const sources = Array.from(
      { length: n },
      (_, i) => `https://media.example/bench/${n}/talk-${i}.mp4`,
    );
    const input: BatchInput = {
      sources,
      cwd: "/",
      options: {
        ...batchDefaults,
        concurrency: Number(values.concurrency),
        maxBatchSize: Number(values["max-batch-size"]),
        job: {
          model: "tiny.en",
          language: "auto",
          formats: ["txt", "srt", "vtt", "json"],
          storageAccountUrl: "file:/data/transcripts",
          storageContainer: "videos",
        },
      },
    };
    const started = performance.now();
    const id = await client.scheduleNewOrchestration(
      "transcribeBatch",
      input,
      `bench-${n}`,
    );
    const state = await client.waitForOrchestrationCompletion(id, true, 3600);
    const seconds = (performance.now() - started) / 1000;
    if (state?.runtimeStatus !== OrchestrationStatus.COMPLETED) {
      throw new Error(`batch of ${n} ended ${state?.runtimeStatus}`);
    }
    const out = JSON.parse(state.serializedOutput!) as BatchResult;
    const longest = Math.max(
      ...(await Promise.all(
        [id, ...(n > input.options.maxBatchSize ? [`${id}/b/0`] : [])].map(
          async (i) => (await client.getOrchestrationHistory(i)).length,
        ),
      )),
    );
    const readStart = performance.now();
    const { results } = await readBatchResults(client, out);
    const readSeconds = (performance.now() - readStart) / 1000;
    console.log(
      `N=${n}: ${seconds.toFixed(1)} s, ${(n / seconds).toFixed(0)} videos/s, ${((seconds * 1000) / n).toFixed(1)} ms per video; ${out.succeeded} succeeded; batch history ${longest} events; output ${(state.serializedOutput!.length / 1024).toFixed(1)} KiB${out.parts ? ` in ${out.parts.length} parts` : ""}; ${results.length} results read in ${readSeconds.toFixed(2)} s`,
    );
  }
} finally {
  await client.stop();
  await worker.stop();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
