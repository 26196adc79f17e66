import { test } from "node:test";
import assert from "node:assert/strict";

import { runConfig, duration } from "../../src/cli/run-config.js";
import { ConfigError } from "../../src/errors.js";

const env = { HOME: "/home/u", PATH: "/usr/bin" };

function config(
  flags: Record<string, string | boolean> = {},
  sources = ["DEM520", "talks/"],
) {
  return runConfig({ flags, positionals: sources, env, cwd: "/work/talks" });
}

test("the same sources and options give the same batch id; other options another", () => {
  const a = config();
  const b = config();
  const c = config({ model: "base.en" });

  assert.equal(a.batchId, b.batchId);
  assert.match(a.batchId, /^batch-[0-9a-f]{12}$/);
  assert.notEqual(a.batchId, c.batchId);
  assert.equal(config({ "batch-id": "mine" }).batchId, "mine");
});

test("the defaults: embedded hub in the folder, transcripts under ./transcripts, all formats", () => {
  const c = config();

  assert.deepEqual(c.hub, {
    kind: "embedded",
    store: "sqlite:/work/talks/.durascribe/hub.db",
  });
  assert.equal(c.options.job.storageAccountUrl, "file:/work/talks/transcripts");
  assert.equal(c.options.job.storageContainer, "videos");
  assert.deepEqual(c.options.job.formats, ["txt", "srt", "vtt", "json"]);
  assert.equal(c.options.concurrency, 16);
  assert.equal(c.options.job.threads, undefined);
  assert.equal(c.worker, true);
});

test("job settings travel only when given; a model path is made absolute", () => {
  const c = config({
    threads: "3",
    model: "models/my.bin",
    vad: true,
    timeout: "90m",
  });

  assert.equal(c.options.job.threads, 3);
  assert.equal(c.options.job.model, "/work/talks/models/my.bin");
  assert.equal(c.options.job.vad, true);
  assert.equal(c.options.timeoutSeconds, 5400);
});

test("an endpoint or connection string means a hub elsewhere", () => {
  const c = config({ endpoint: "http://hub.internal:8080", taskhub: "prod" });

  assert.deepEqual(c.hub, {
    kind: "remote",
    target: {
      kind: "endpoint",
      endpoint: "http://hub.internal:8080",
      taskHub: "prod",
      token: undefined,
    },
  });
});

test("bad settings are configuration errors naming the setting", () => {
  for (const [flags, sources, why] of [
    [{}, [], /needs sources/],
    [
      { out: "a", storage: "https://acct.blob.core.windows.net" },
      ["x"],
      /--out <folder> or --storage <url>, not both/,
    ],
    [{ concurrency: "0" }, ["x"], /--concurrency "0"/],
    [{ retries: "-1" }, ["x"], /--retries "-1"/],
    [{ "batch-id": "a/b" }, ["x"], /--batch-id "a\/b" is not usable/],
    [{ formats: "txt,doc" }, ["x"], /doc/],
    [
      { runner: "k8s", "k8s-template": "job.yaml" },
      ["x"],
      /k8s runner's job executions cannot write to a folder/,
    ],
  ] as const) {
    assert.throws(
      () =>
        runConfig({
          flags: { ...flags },
          positionals: [...sources],
          env,
          cwd: "/w",
        }),
      (err: unknown) => err instanceof ConfigError && why.test(err.message),
    );
  }
});

test("durations take seconds, minutes or hours", () => {
  assert.deepEqual(
    ["90", "90s", "30m", "6h", "1.5h"].map((d) => duration(d, 0)),
    [90, 90, 1800, 21600, 5400],
  );
  assert.throws(() => duration("soon", 0), /not a duration/);
});
