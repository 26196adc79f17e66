/**
 * The catalogue's entries, resolving a model setting to a file, and the
 * `durascribe models` command run as a user runs it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { ConfigError } from "../../src/errors.js";
import { writeChecksum } from "../../src/models/cache.js";
import {
  CATALOGUE,
  catalogueModel,
  findModel,
} from "../../src/models/catalogue.js";
import { modelsConfig } from "../../src/models/config.js";
import { resolveModel } from "../../src/models/resolve.js";
import { CLI } from "../support/cli.js";

let root: string;
let cache: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "durascribe-catalogue-"));
  cache = path.join(root, "models");
  await mkdir(cache);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A file that starts with the ggml magic, as a model does. */
async function fakeModel(
  file: string,
  body = "rest of a model",
): Promise<void> {
  await writeFile(
    file,
    Buffer.concat([Buffer.from("lmgg"), Buffer.from(body)]),
  );
}

/** Runs the CLI; resolves with its exit code and output, never rejects. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test("the catalogue has the standard models with sizes, digests and sources", () => {
  const standard = [
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "large-v1",
    "large-v2",
    "large-v3",
    "large-v3-turbo",
  ];
  for (const name of standard) assert.ok(findModel(name), name);
  assert.equal(new Set(CATALOGUE.map((m) => m.name)).size, CATALOGUE.length);
  for (const m of CATALOGUE) {
    assert.equal(m.file, `ggml-${m.name}.bin`);
    assert.equal(
      m.url,
      `https://huggingface.co/ggerganov/whisper.cpp/resolve/5359861c739e955e79d9a303bcbc70fb988958b1/ggml-${m.name}.bin`,
    );
    assert.match(m.sha256 ?? "", /^[0-9a-f]{64}$/, m.name);
    assert.ok(Number.isSafeInteger(m.bytes) && m.bytes > 30e6, m.name);
    assert.equal(m.englishOnly, m.name.includes(".en"));
  }
  // Quantized files are smaller than the full ones they come from.
  assert.ok(
    catalogueModel("base.en-q5_1").bytes < catalogueModel("base.en-q8_0").bytes,
  );
  assert.ok(
    catalogueModel("base.en-q8_0").bytes < catalogueModel("base.en").bytes,
  );
});

test("an unknown name is a ConfigError with exit code 2", () => {
  assert.throws(
    () => catalogueModel("gigantic"),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.exitCode, 2);
      assert.equal(err.code, "E_MODEL_UNKNOWN");
      return true;
    },
  );
});

test("a path to a .bin is used as given", async () => {
  const file = path.join(root, "custom", "ggml-mine.bin");
  await mkdir(path.dirname(file), { recursive: true });
  await fakeModel(file);
  assert.deepEqual(await resolveModel(file, cache), {
    path: file,
    name: "mine",
  });
  const relative = path.relative(process.cwd(), file);
  assert.equal((await resolveModel(relative, cache)).path, file);
});

test("a cached catalogue model resolves to its file in the cache", async () => {
  await fakeModel(path.join(cache, "ggml-base.en.bin"));
  assert.deepEqual(await resolveModel("base.en", cache), {
    path: path.join(cache, "ggml-base.en.bin"),
    name: "base.en",
  });
});

test("a catalogue model not in the cache says how to pull it", async () => {
  await assert.rejects(resolveModel("small.en", cache), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.code, "E_MODEL_MISSING");
    assert.match(
      err.message,
      /model "small\.en" \(.*ggml-small\.en\.bin\) is not in the model cache .*`durascribe models pull small\.en`/,
    );
    return true;
  });
});

test("a missing model file and an unknown name are told apart", async () => {
  await assert.rejects(
    resolveModel(path.join(root, "gone.bin"), cache),
    /model file .*gone\.bin does not exist/,
  );
  await assert.rejects(
    resolveModel("nonesuch", cache),
    /"nonesuch" \(.*\) is neither in the model cache .* nor a known model; known models: tiny,/,
  );
});

test("a file that is not a ggml model is refused before whisper.cpp sees it", async () => {
  const file = path.join(root, "notes.bin");
  await writeFile(file, "just text");
  await assert.rejects(
    resolveModel(file, cache),
    /notes\.bin is not a whisper\.cpp ggml model/,
  );
  await assert.rejects(
    resolveModel(root, cache),
    /is a folder, not a ggml \.bin file/,
  );
});

test("the models folder comes from the flag, else the environment, else HOME", () => {
  assert.equal(
    modelsConfig({
      flags: { "models-dir": "/a" },
      env: { DURASCRIBE_MODELS_DIR: "/b" },
    }).modelsDir,
    "/a",
  );
  assert.equal(
    modelsConfig({ flags: {}, env: { DURASCRIBE_MODELS_DIR: "/b" } }).modelsDir,
    "/b",
  );
  assert.equal(
    modelsConfig({ flags: {}, env: { HOME: "/home/u" } }).modelsDir,
    "/home/u/.cache/durascribe/models",
  );
  assert.throws(
    () => modelsConfig({ flags: { mirror: "ftp://x" }, env: {} }),
    /--mirror "ftp:\/\/x" is not an http\(s\) URL/,
  );
});

test("models path prints the path, or fails with exit 2 naming the pull command", async () => {
  const env = { DURASCRIBE_MODELS_DIR: cache };
  await fakeModel(path.join(cache, "ggml-tiny.bin"));
  const found = await cli(["models", "path", "tiny"], env);
  assert.deepEqual(
    [found.code, found.stdout],
    [0, `${path.join(cache, "ggml-tiny.bin")}\n`],
  );

  const missing = await cli(["models", "path", "medium.en"], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /durascribe models pull medium\.en/);
});

test("models list shows the catalogue and what is cached", async () => {
  await fakeModel(path.join(cache, "ggml-tiny.en.bin"));
  await writeChecksum(path.join(cache, "ggml-tiny.en.bin"), "0".repeat(64));
  await fakeModel(path.join(cache, "ggml-custom.bin"));
  const { code, stdout } = await cli(["models", "list", "--models-dir", cache]);
  assert.equal(code, 0);
  const lines = stdout.split("\n");
  assert.match(lines[1]!, /^NAME\s+SIZE\s+CACHED\s+PATH$/);
  assert.match(
    stdout,
    new RegExp(
      `\\ntiny\\.en +0\\.0 MB +yes \\(converted\\) +${path.join(cache, "ggml-tiny.en.bin")}\\n`,
    ),
  );
  assert.match(stdout, /\nlarge-v3 +3095\.0 MB +no\n/);
  assert.match(stdout, /\ncustom +0\.0 MB +yes \(not in catalogue\)/);
});

test("models verify finds a file that changed since it was recorded", async () => {
  const file = path.join(cache, "ggml-base.bin");
  await fakeModel(file, "original");
  const env = { DURASCRIBE_MODELS_DIR: cache };
  const unrecorded = await cli(["models", "verify", "base"], env);
  assert.equal(unrecorded.code, 0);
  assert.match(unrecorded.stdout, /no checksum was recorded to compare with/);
  await writeChecksum(file, "f".repeat(64));
  const changed = await cli(["models", "verify", "base"], env);
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /not the f{64} recorded .*: the file changed/);
});

test("a models sub-command that does not exist is a usage error", async () => {
  const { code, stderr } = await cli(["models", "fetch"]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /unknown models sub-command "fetch"; use one of: list, pull, path, import, verify/,
  );
});
