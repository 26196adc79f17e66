import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";

import { ConfigError } from "../../src/errors.js";
import { halfToFloat } from "../../src/models/float16.js";
import {
  GGML_F16,
  GGML_F32,
  VAD_TENSOR_NAMES,
  readVadGgml,
  sileroToGgml,
} from "../../src/models/vad-ggml.js";
import {
  PickleGlobal,
  PickleObject,
  readPickle,
} from "../../src/models/vad-pickle.js";
import { readTorchScriptTensors } from "../../src/models/vad-torchscript.js";
import type { FloatTensor } from "../../src/models/vad-torchscript.js";
import {
  PUBLISHED_VAD_MODELS,
  convertSileroWheel,
  ensureVadModel,
  findVadModel,
  vadModelFileName,
} from "../../src/models/vad.js";
import { ASSETS_DIR } from "../support/assets.js";

/** Wheels fetched by test/support/prepare-assets.ts (or by hand with pip). */
const WHEELS = ASSETS_DIR;

/** Builds pickle bytes opcode by opcode, the way Python's pickler writes. */
class PickleBytes {
  private readonly parts: Buffer[] = [];

  op(...codes: number[]): this {
    this.parts.push(Buffer.from(codes));
    return this;
  }

  str(text: string): this {
    const body = Buffer.from(text, "utf8");
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    this.parts.push(Buffer.from([0x58]), len, body); // BINUNICODE
    return this;
  }

  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, "latin1"));
    return this;
  }

  int(value: number): this {
    if (value >= 0 && value < 256) return this.op(0x4b, value); // BININT1
    const b = Buffer.alloc(5);
    b[0] = 0x4a; // BININT
    b.writeInt32LE(value, 1);
    this.parts.push(b);
    return this;
  }

  tuple(...values: number[]): this {
    this.op(0x28);
    for (const v of values) this.int(v);
    return this.op(0x74);
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A TorchScript-like tensor: `_rebuild_tensor_v2(storage, offset, ...)`. */
function pickleTensor(
  p: PickleBytes,
  key: string,
  numel: number,
  offset: number,
  shape: number[],
  stride: number[],
): void {
  p.global("torch._utils", "_rebuild_tensor_v2").op(0x28, 0x28);
  p.str("storage").global("torch", "FloatStorage").str(key).str("cpu");
  p.int(numel).op(0x74, 0x51); // TUPLE, BINPERSID
  p.int(offset)
    .tuple(...shape)
    .tuple(...stride)
    .op(0x89); // requires_grad
  p.global("collections", "OrderedDict").op(0x29, 0x52); // OrderedDict()
  p.op(0x74, 0x52); // TUPLE, REDUCE
}

function floats(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

/** The tensors a Silero 16 kHz model has, filled with varied values. */
function syntheticSilero(): Map<string, FloatTensor> {
  const shapes: Record<string, number[]> = {
    "_model.stft.forward_basis_buffer": [258, 1, 256],
    "_model.decoder.rnn.weight_ih": [512, 128],
    "_model.decoder.rnn.weight_hh": [512, 128],
    "_model.decoder.rnn.bias_ih": [512],
    "_model.decoder.rnn.bias_hh": [512],
    "_model.decoder.decoder.2.weight": [1, 128, 1],
    "_model.decoder.decoder.2.bias": [1],
  };
  const channels = [129, 128, 64, 64, 128];
  for (let i = 0; i < 4; i++) {
    shapes[`_model.encoder.${i}.reparam_conv.weight`] = [
      channels[i + 1]!,
      channels[i]!,
      3,
    ];
    shapes[`_model.encoder.${i}.reparam_conv.bias`] = [channels[i + 1]!];
  }
  let seed = 1;
  const tensors = new Map<string, FloatTensor>();
  for (const [name, shape] of Object.entries(shapes)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      data[i] = (seed / 2 ** 31 - 0.5) * 4;
    }
    tensors.set(name, { name, shape, data });
  }
  return tensors;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "durascribe-vad-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function sha256(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The work folders ensureVadModel has in the temp folder now. */
async function workFolders(): Promise<string[]> {
  const all = await readdir(tmpdir());
  return all.filter((f) => f.startsWith("durascribe-silero-vad-")).sort();
}

/** The cached wheel of `version`, or undefined (the test then skips). */
function cachedWheel(version: string): string | undefined {
  const path = join(WHEELS, `silero_vad-${version}-py3-none-any.whl`);
  return existsSync(path) ? path : undefined;
}

function skipWithoutWheel(t: TestContext, version: string): boolean {
  if (cachedWheel(version)) return false;
  t.skip(
    `no silero-vad ${version} wheel in ${WHEELS}; fetch it with: python3 -m pip download silero-vad==${version} --no-deps -d ${WHEELS}`,
  );
  return true;
}

void test("the pickle reader rebuilds objects, dicts, lists, tuples and memo references", () => {
  const p = new PickleBytes().op(0x80, 2);
  p.global("pkg.mod", "Thing").op(0x71, 0, 0x29, 0x81); // BINPUT 0, (), NEWOBJ
  p.op(0x7d, 0x28); // EMPTY_DICT, MARK
  p.str("count").int(-70000);
  p.str("name")
    .op(0x8c, 2)
    .op(...Buffer.from("ok")); // SHORT_BINUNICODE
  p.str("flags").op(0x5d, 0x28, 0x88, 0x89, 0x4e, 0x65); // [True, False, None]
  p.str("shape").tuple(2, 300);
  p.str("big").op(0x8a, 5, 0, 0, 0, 0, 0x80); // LONG1: -2**39
  p.str("again").op(0x68, 0); // BINGET 0: the class again
  p.op(0x75, 0x62, 0x2e); // SETITEMS, BUILD, STOP

  const value = readPickle(p.bytes());
  assert.ok(value instanceof PickleObject);
  assert.ok(value.cls instanceof PickleGlobal);
  assert.equal(value.cls.qualifiedName, "pkg.mod.Thing");
  const state = value.state as Map<string, unknown>;
  assert.equal(state.get("count"), -70000);
  assert.equal(state.get("name"), "ok");
  assert.deepEqual(state.get("flags"), [true, false, null]);
  assert.deepEqual(state.get("shape"), [2, 300]);
  assert.equal(state.get("big"), -(2 ** 39));
  assert.equal(state.get("again"), value.cls);
});

void test("the pickle reader hands calls and persistent ids to its hooks", () => {
  const p = new PickleBytes().op(0x80, 2);
  p.global("m", "make").op(0x28).str("id-7").op(0x51, 0x74, 0x52, 0x2e);
  const calls: string[] = [];
  const value = readPickle(p.bytes(), {
    persistentLoad: (pid) => `loaded ${String(pid)}`,
    call: (fn, args) => {
      calls.push(fn.qualifiedName);
      return { made: args };
    },
  });
  assert.deepEqual(calls, ["m.make"]);
  assert.deepEqual(value, { made: ["loaded id-7"] });
});

void test("the pickle reader names an unsupported opcode and its offset", () => {
  // 0x69 is INST, a protocol-0 opcode TorchScript never writes.
  const bytes = new PickleBytes().op(0x80, 2, 0x4e, 0x69).bytes();
  assert.throws(() => readPickle(bytes), /opcode 0x69 at byte 3/);
});

void test("the pickle reader refuses a truncated pickle", () => {
  const bytes = new PickleBytes().op(0x80, 2).str("cut").bytes();
  assert.throws(() => readPickle(bytes.subarray(0, 8)), /truncated/);
});

void test("TorchScript tensors get their attribute paths and strided data", () => {
  const p = new PickleBytes().op(0x80, 2);
  p.global("__torch__.m", "Root").op(0x29, 0x81, 0x7d, 0x28);
  p.str("training").op(0x89);
  p.str("sub").global("__torch__.m", "Sub").op(0x29, 0x81, 0x7d, 0x28);
  // A transposed view of a 3x2 storage, and a strided slice at offset 1.
  p.str("weight");
  pickleTensor(p, "0", 6, 0, [2, 3], [1, 2]);
  p.str("odd");
  pickleTensor(p, "0", 6, 1, [3], [2]);
  p.op(0x75, 0x62); // the sub-module's SETITEMS, BUILD
  p.op(0x75, 0x62, 0x2e);
  const entries = new Map<string, Uint8Array>([
    ["arch/data.pkl", p.bytes()],
    ["arch/byteorder", Buffer.from("little")],
    ["arch/data/0", floats([0, 1, 2, 3, 4, 5])],
  ]);

  const tensors = readTorchScriptTensors({
    names: [...entries.keys()],
    read: (name) => entries.get(name),
  });
  assert.deepEqual([...tensors.keys()], ["sub.weight", "sub.odd"]);
  assert.deepEqual(tensors.get("sub.weight")!.shape, [2, 3]);
  assert.deepEqual([...tensors.get("sub.weight")!.data], [0, 2, 4, 1, 3, 5]);
  assert.deepEqual([...tensors.get("sub.odd")!.data], [1, 3, 5]);
});

void test("a TorchScript tensor that reaches past its storage is refused", () => {
  const p = new PickleBytes().op(0x80, 2);
  p.global("__torch__.m", "Root").op(0x29, 0x81, 0x7d, 0x28);
  p.str("w");
  pickleTensor(p, "0", 6, 4, [3], [1]);
  p.op(0x75, 0x62, 0x2e);
  const entries = new Map<string, Uint8Array>([
    ["a/data.pkl", p.bytes()],
    ["a/data/0", floats([0, 1, 2, 3, 4, 5])],
  ]);
  assert.throws(
    () =>
      readTorchScriptTensors({
        names: [...entries.keys()],
        read: (name) => entries.get(name),
      }),
    /tensor w reaches past the end of its storage/,
  );
});

void test("a zip without data.pkl is not taken for TorchScript", () => {
  assert.throws(
    () =>
      readTorchScriptTensors({
        names: ["x/model.onnx"],
        read: () => undefined,
      }),
    /not a TorchScript archive/,
  );
});

void test("the ggml file has whisper.cpp's header, tensor order, dims and types", () => {
  const tensors = syntheticSilero();
  const file = sileroToGgml(tensors, "6.2.0");
  const { header, tensors: records } = readVadGgml(file);

  assert.equal(header.modelType, "silero-16k");
  assert.equal(header.version, "6.2.0");
  assert.deepEqual([header.window, header.context], [512, 64]);
  assert.deepEqual(header.encoder, [
    [129, 128, 3],
    [128, 64, 3],
    [64, 64, 3],
    [64, 128, 3],
  ]);
  assert.deepEqual(
    [header.lstmInput, header.lstmHidden, header.finalConvIn],
    [128, 128, 128],
  );
  assert.equal(header.finalConvOut, 1);
  assert.deepEqual(
    records.map((r) => r.name),
    VAD_TENSOR_NAMES,
  );
  const byName = new Map(records.map((r) => [r.name, r]));
  // The loader's expected ne, innermost first (whisper_vad_init_with_params).
  assert.deepEqual(
    byName.get("_model.stft.forward_basis_buffer")!.ne,
    [256, 1, 258],
  );
  assert.deepEqual(
    byName.get("_model.encoder.0.reparam_conv.weight")!.ne,
    [3, 129, 128],
  );
  assert.deepEqual(byName.get("_model.decoder.rnn.weight_ih")!.ne, [128, 512]);
  assert.deepEqual(byName.get("_model.decoder.decoder.2.weight")!.ne, [128]);
  assert.deepEqual(byName.get("_model.decoder.decoder.2.bias")!.ne, []);
  for (const r of records) {
    const f16 = r.name.endsWith(".weight") && !r.name.includes(".rnn.");
    const basis = r.name === "_model.stft.forward_basis_buffer";
    assert.equal(r.type, f16 || basis ? GGML_F16 : GGML_F32, r.name);
  }
  assert.equal(file.length, 885_098);
});

void test("the ggml tensors carry the source values, f16 ones rounded to half", () => {
  const tensors = syntheticSilero();
  const { tensors: records } = readVadGgml(sileroToGgml(tensors, "5.1.2"));
  for (const r of records) {
    const source = tensors.get(r.name)!.data;
    for (let i = 0; i < source.length; i += 97) {
      const got =
        r.type === GGML_F16
          ? halfToFloat(r.data.readUInt16LE(i * 2))
          : r.data.readFloatLE(i * 4);
      const tolerance = r.type === GGML_F16 ? Math.abs(source[i]!) / 1024 : 0;
      assert.ok(Math.abs(got - source[i]!) <= tolerance, `${r.name}[${i}]`);
    }
  }
});

void test("a Silero tensor with an unexpected shape is refused by name", () => {
  const tensors = syntheticSilero();
  const name = "_model.encoder.2.reparam_conv.weight";
  tensors.set(name, {
    name,
    shape: [64, 64, 5],
    data: new Float32Array(64 * 64 * 5),
  });
  assert.throws(
    () => sileroToGgml(tensors, "6.2.0"),
    /encoder\.2\.reparam_conv\.weight has shape \[64, 64, 5\]; whisper\.cpp expects \[64, 64, 3\]/,
  );
});

void test("a Silero model without one of its tensors is refused by name", () => {
  const tensors = syntheticSilero();
  tensors.delete("_model.decoder.rnn.bias_hh");
  assert.throws(
    () => sileroToGgml(tensors, "6.2.0"),
    /no tensor _model\.decoder\.rnn\.bias_hh/,
  );
});

for (const version of Object.keys(PUBLISHED_VAD_MODELS)) {
  void test(`the silero-vad ${version} wheel converts byte for byte to whisper.cpp's published file`, async (t) => {
    if (skipWithoutWheel(t, version)) return;
    const dir = await tempDir(t);
    const made = await convertSileroWheel(cachedWheel(version)!, dir);
    assert.equal(made.version, version);
    assert.equal(made.model.length, PUBLISHED_VAD_MODELS[version]!.bytes);
    assert.equal(sha256(made.model), PUBLISHED_VAD_MODELS[version]!.sha256);
    assert.deepEqual(await readdir(dir), [], "the extracted .jit is removed");
  });
}

void test("ensureVadModel downloads with pip, converts, records the SHA-256 and cleans up", async (t) => {
  if (skipWithoutWheel(t, "6.2.0")) return;
  if (spawnSync("python3", ["-m", "pip", "--version"]).status !== 0) {
    return t.skip("python3 -m pip does not run here");
  }
  const dir = await tempDir(t);
  const lines: string[] = [];
  const { Logger } = await import("../../src/logger.js");
  const logger = new Logger("info", {}, (line) => lines.push(line));
  const before = await workFolders();

  const path = await ensureVadModel(dir, {
    logger,
    // pip itself runs; only its index is a local folder.
    pipArgs: ["--no-index", "--find-links", WHEELS],
  });

  const published = PUBLISHED_VAD_MODELS["6.2.0"]!;
  assert.equal(path, join(dir, "ggml-silero-v6.2.0.bin"));
  assert.equal(sha256(await readFile(path)), published.sha256);
  assert.equal(
    await readFile(`${path}.sha256`, "utf8"),
    `${published.sha256}  ggml-silero-v6.2.0.bin\n`,
  );
  assert.deepEqual((await readdir(dir)).sort(), [
    "ggml-silero-v6.2.0.bin",
    "ggml-silero-v6.2.0.bin.sha256",
  ]);
  assert.deepEqual(await workFolders(), before, "its work folder is removed");
  assert.match(lines.join(""), /downloading silero-vad with pip/);
  assert.match(lines.join(""), /VAD model ready/);
});

void test("ensureVadModel returns a cached model without running pip", async (t) => {
  const dir = await tempDir(t);
  const body = Buffer.from("a model made earlier");
  const path = join(dir, vadModelFileName("6.2.3"));
  await writeFile(path, body);
  await writeFile(
    `${path}.sha256`,
    `${sha256(body)}  ${vadModelFileName("6.2.3")}\n`,
  );

  const found = await ensureVadModel(dir, {
    version: "6.2.3",
    python: join(dir, "no-such-python"),
  });
  assert.equal(found, path);
});

void test("a cached model that does not match its checksum is not used", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, vadModelFileName());
  await writeFile(path, Buffer.alloc(885_098));

  assert.equal(await findVadModel(dir), undefined);
  await assert.rejects(
    ensureVadModel(dir, { python: join(dir, "no-such-python") }),
    (err: unknown) =>
      err instanceof ConfigError && err.code === "E_PIP_MISSING",
  );
});

void test("a missing python is a ConfigError that says how to get the model", async (t) => {
  const dir = await tempDir(t);
  const python = join(dir, "no-such-python");
  const before = await workFolders();
  await assert.rejects(ensureVadModel(dir, { python }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /no-such-python was not found/);
    assert.match(err.message, /ggml-silero-v6\.2\.0\.bin/);
    return true;
  });
  assert.deepEqual(await readdir(dir), [], "nothing is left in the cache");
  assert.deepEqual(await workFolders(), before, "its work folder is removed");
});

void test("a Silero version that is not x.y.z is refused before anything runs", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(
    ensureVadModel(dir, { version: "../../6.2.0" }),
    (err: unknown) =>
      err instanceof ConfigError && err.code === "E_VAD_VERSION",
  );
  assert.deepEqual(await readdir(dir), []);
});
