/**
 * The CTranslate2 -> ggml converter on small synthetic Whisper models
 * written by the test's own CT2 writer, read back by the test's own ggml
 * reader: header, names, shapes, types, data, the dropped key-bias slices
 * and aliases; and whisper.cpp itself loading the result when the addon
 * is built.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, truncate } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { ConfigError } from "../../src/errors.js";
import { convertCt2Whisper } from "../../src/models/convert.js";
import { floatToHalf, halfToFloat } from "../../src/models/float16.js";
import { melFilters } from "../../src/models/mel.js";
import {
  SMALL,
  syntheticWhisper,
  vocabularyOf,
  writeCt2Folder,
} from "./ct2-writer.js";
import type { Ct2Model, Ct2Var, WhisperShape } from "./ct2-writer.js";
import { readGgml } from "./ggml-reader.js";
import type { GgmlFile, GgmlTensor } from "./ggml-reader.js";

let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "durascribe-convert-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `model` as a CT2 folder, converts it, and reads the output. */
async function convert(
  model: Ct2Model,
  shape: WhisperShape = SMALL,
): Promise<{
  ggml: GgmlFile;
  out: string;
  result: Awaited<ReturnType<typeof convertCt2Whisper>>;
}> {
  const folder = path.join(dir, `model-${++n}`);
  await writeCt2Folder(folder, model, vocabularyOf(shape));
  const out = path.join(dir, `out-${n}.bin`);
  const result = await convertCt2Whisper(folder, out);
  return { ggml: await readGgml(out), out, result };
}

function variable(model: Ct2Model, name: string): Ct2Var {
  const v = model.variables.find((x) => x.name === name);
  assert.ok(v, `test model has ${name}`);
  return v;
}

function tensor(ggml: GgmlFile, name: string): GgmlTensor {
  const t = ggml.tensors.find((x) => x.name === name);
  assert.ok(t, `output has ${name}`);
  return t;
}

/** Half-precision bytes as the float32 bytes the converter should write. */
function asFloat32(half: Buffer): Buffer {
  const out = Buffer.alloc(half.length * 2);
  for (let i = 0; i < half.length / 2; i++) {
    out.writeFloatLE(halfToFloat(half.readUInt16LE(i * 2)), i * 4);
  }
  return out;
}

/** The names whisper.cpp expects (whisper-arch.h), for these layer counts. */
function expectedNames(audioLayers: number, textLayers: number): string[] {
  const names = [
    "encoder.positional_embedding",
    "encoder.conv1.weight",
    "encoder.conv1.bias",
    "encoder.conv2.weight",
    "encoder.conv2.bias",
    "encoder.ln_post.weight",
    "encoder.ln_post.bias",
    "decoder.positional_embedding",
    "decoder.token_embedding.weight",
    "decoder.ln.weight",
    "decoder.ln.bias",
  ];
  const attn = (p: string): string[] => [
    `${p}.query.weight`,
    `${p}.query.bias`,
    `${p}.key.weight`,
    `${p}.value.weight`,
    `${p}.value.bias`,
    `${p}.out.weight`,
    `${p}.out.bias`,
  ];
  const common = (p: string): string[] => [
    ...attn(`${p}.attn`),
    `${p}.attn_ln.weight`,
    `${p}.attn_ln.bias`,
    `${p}.mlp.0.weight`,
    `${p}.mlp.0.bias`,
    `${p}.mlp.2.weight`,
    `${p}.mlp.2.bias`,
    `${p}.mlp_ln.weight`,
    `${p}.mlp_ln.bias`,
  ];
  for (let i = 0; i < audioLayers; i++) {
    names.push(...common(`encoder.blocks.${i}`));
  }
  for (let i = 0; i < textLayers; i++) {
    const p = `decoder.blocks.${i}`;
    names.push(
      ...common(p),
      ...attn(`${p}.cross_attn`),
      `${p}.cross_attn_ln.weight`,
      `${p}.cross_attn_ln.bias`,
    );
  }
  return names.sort();
}

test("the header holds the hparams, the mel filters and the text vocabulary", async () => {
  const { ggml } = await convert(syntheticWhisper());
  assert.equal(ggml.magic, 0x67676d6c);
  const vocab = vocabularyOf(SMALL).length;
  assert.deepEqual(ggml.hparams, [vocab, 10, 8, 2, 2, 6, 8, 2, 2, 80, 1]);
  assert.equal(ggml.nMel, 80);
  assert.equal(ggml.nFft, 201);
  assert.deepEqual(ggml.filters, Buffer.from(melFilters(80).data.buffer));
  assert.deepEqual(
    ggml.tokens.map((t) => t.toString("utf8")),
    ["!", " the", "\n", "\u2019", " ", "hello", "<|endoftext|>"],
  );
});

test("every tensor whisper.cpp expects is written once, and no other", async () => {
  const { ggml, result } = await convert(syntheticWhisper());
  const names = ggml.tensors.map((t) => t.name);
  assert.deepEqual([...names].sort(), expectedNames(2, 2));
  assert.equal(result.tensors, 7 + 15 * 2 + 4 + 24 * 2);
  assert.ok(
    !names.some((x) => /key\.bias$/.test(x)),
    "whisper has no key bias",
  );
});

test("dims are written innermost first and types follow ftype 1", async () => {
  const { ggml } = await convert(syntheticWhisper());
  const vocab = vocabularyOf(SMALL).length;
  const expect: [string, number[], number][] = [
    ["encoder.conv1.weight", [3, 80, 8], 1],
    ["encoder.conv2.weight", [3, 8, 8], 1],
    ["encoder.conv1.bias", [1, 8], 0],
    ["encoder.positional_embedding", [8, 10], 0],
    ["encoder.blocks.1.attn.query.weight", [8, 8], 1],
    ["encoder.blocks.1.attn.query.bias", [8], 0],
    ["encoder.blocks.0.mlp.0.weight", [8, 32], 1],
    ["encoder.blocks.0.mlp.2.weight", [32, 8], 1],
    ["encoder.blocks.0.mlp_ln.weight", [8], 0],
    ["decoder.token_embedding.weight", [8, vocab], 1],
    ["decoder.positional_embedding", [8, 6], 0],
    ["decoder.blocks.1.cross_attn.value.weight", [8, 8], 1],
    ["decoder.ln.bias", [8], 0],
  ];
  for (const [name, ne, type] of expect) {
    const t = tensor(ggml, name);
    assert.deepEqual([t.ne, t.type], [ne, type], name);
  }
});

test("fused projections are cut apart by rows", async () => {
  const model = syntheticWhisper();
  const { ggml } = await convert(model);
  const rowBytes = 8 * 2;
  const qkv = variable(
    model,
    "encoder/layer_1/self_attention/linear_0/weight",
  ).data;
  const parts = ["query", "key", "value"];
  parts.forEach((p, i) => {
    assert.deepEqual(
      tensor(ggml, `encoder.blocks.1.attn.${p}.weight`).data,
      qkv.subarray(i * 8 * rowBytes, (i + 1) * 8 * rowBytes),
      p,
    );
  });
  const kv = variable(model, "decoder/layer_0/attention/linear_1/weight").data;
  assert.deepEqual(
    tensor(ggml, "decoder.blocks.0.cross_attn.key.weight").data,
    kv.subarray(0, 8 * rowBytes),
  );
  assert.deepEqual(
    tensor(ggml, "decoder.blocks.0.cross_attn.value.weight").data,
    kv.subarray(8 * rowBytes),
  );
});

test("biases become float32 and the key's zero slice is dropped", async () => {
  const model = syntheticWhisper();
  const { ggml } = await convert(model);
  const selfBias = variable(
    model,
    "decoder/layer_1/self_attention/linear_0/bias",
  ).data;
  assert.deepEqual(
    tensor(ggml, "decoder.blocks.1.attn.query.bias").data,
    asFloat32(selfBias.subarray(0, 16)),
  );
  assert.deepEqual(
    tensor(ggml, "decoder.blocks.1.attn.value.bias").data,
    asFloat32(selfBias.subarray(32, 48)),
  );
  const crossBias = variable(
    model,
    "decoder/layer_1/attention/linear_1/bias",
  ).data;
  assert.deepEqual(
    tensor(ggml, "decoder.blocks.1.cross_attn.value.bias").data,
    asFloat32(crossBias.subarray(16)),
  );
  const gamma = variable(model, "encoder/layer_norm/gamma").data;
  assert.deepEqual(
    tensor(ggml, "encoder.ln_post.weight").data,
    asFloat32(gamma),
  );
});

test("the projection alias adds no tensor, and an alias resolves to its target", async () => {
  const model = syntheticWhisper();
  const embeddings = variable(model, "decoder/embeddings/weight");
  const { ggml } = await convert(model);
  assert.deepEqual(
    tensor(ggml, "decoder.token_embedding.weight").data,
    embeddings.data,
  );
  assert.ok(!ggml.tensors.some((t) => t.name.includes("proj")));

  // The other way round: the embedding itself stored as an alias.
  const flipped: Ct2Model = {
    variables: model.variables.map((v) =>
      v === embeddings ? { ...v, name: "decoder/projection/weight" } : v,
    ),
    aliases: [["decoder/embeddings/weight", "decoder/projection/weight"]],
  };
  const again = await convert(flipped);
  assert.deepEqual(
    tensor(again.ggml, "decoder.token_embedding.weight").data,
    embeddings.data,
  );
});

test("a float32 model converts with its weights rounded to half precision", async () => {
  const shape: WhisperShape = { ...SMALL, type: "float32" };
  const model = syntheticWhisper(shape);
  const { ggml } = await convert(model, shape);
  const w = variable(model, "encoder/layer_0/ffn/linear_0/weight").data;
  const half = Buffer.alloc(w.length / 2);
  for (let i = 0; i < w.length / 4; i++) {
    half.writeUInt16LE(floatToHalf(w.readFloatLE(i * 4)), i * 2);
  }
  assert.deepEqual(tensor(ggml, "encoder.blocks.0.mlp.0.weight").data, half);
  const b = variable(model, "encoder/layer_0/ffn/linear_0/bias").data;
  assert.deepEqual(tensor(ggml, "encoder.blocks.0.mlp.0.bias").data, b);
});

test("the reported size and SHA-256 are those of the file written", async () => {
  const { out, result } = await convert(syntheticWhisper());
  const bytes = await readFile(out);
  assert.equal(result.bytes, bytes.length);
  assert.equal(result.sha256, createHash("sha256").update(bytes).digest("hex"));
});

test("a non-zero key bias is refused: the fused layout would not be the one expected", async () => {
  const model = syntheticWhisper();
  const bias = variable(model, "encoder/layer_0/self_attention/linear_0/bias");
  bias.data.writeUInt16LE(floatToHalf(0.5), 8 * 2 + 6);
  await assert.rejects(convert(model), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, "E_MODEL_FORMAT");
    assert.match(
      err.message,
      /linear_0\/bias part 2 of 3 \(a key bias\) is not zero/,
    );
    return true;
  });
});

test("an int8 model is refused with a hint to convert it as float16", async () => {
  const model = syntheticWhisper();
  const w = variable(model, "decoder/layer_0/ffn/linear_1/weight");
  Object.assign(w, { type: "int8", data: Buffer.alloc(w.data.length / 2) });
  await assert.rejects(
    convert(model),
    /linear_1\/weight is int8; only float16, bfloat16 and float32 models convert/,
  );
});

test("a model of another spec is refused", async () => {
  await assert.rejects(
    convert({ ...syntheticWhisper(), spec: "TransformerSpec" }),
    /holds a TransformerSpec model, not a Whisper one/,
  );
});

test("an unknown binary version is refused", async () => {
  await assert.rejects(
    convert({ ...syntheticWhisper(), version: 3 }),
    /binary version 3 is not supported/,
  );
});

test("a truncated model.bin is refused, and no output is left behind", async () => {
  const folder = path.join(dir, "truncated");
  await writeCt2Folder(folder, syntheticWhisper(), vocabularyOf(SMALL));
  const modelBin = path.join(folder, "model.bin");
  await truncate(modelBin, (await readFile(modelBin)).length - 100);
  const out = path.join(dir, "truncated.bin");
  await assert.rejects(
    convertCt2Whisper(folder, out),
    /model\.bin is not a usable CTranslate2 model: truncated/,
  );
  assert.ok(!(await readdir(dir)).includes("truncated.bin"));
});

test("a folder without a vocabulary is refused by name", async () => {
  const folder = path.join(dir, "novocab");
  await writeCt2Folder(folder, syntheticWhisper(), vocabularyOf(SMALL));
  await rm(path.join(folder, "vocabulary.json"));
  await assert.rejects(
    convertCt2Whisper(folder, path.join(dir, "x.bin")),
    /novocab has no vocabulary\.json/,
  );
});

test("whisper.cpp loads a converted model of another depth", async (t) => {
  const { WhisperModel } = await import("../../src/transcribe/whisper.js");
  const shape: WhisperShape = {
    ...SMALL,
    audioLayers: 3,
    textLayers: 1,
    state: 12,
    heads: 3,
  };
  const { out } = await convert(syntheticWhisper(shape), shape);
  let model;
  try {
    model = await WhisperModel.load(out);
  } catch (err) {
    if ((err as { code?: string }).code === "E_WHISPER_ADDON") {
      return t.skip("the whisper addon is not built (npm run build:native)");
    }
    throw err;
  }
  try {
    assert.equal(model.info.audioLayers, 3);
    assert.equal(model.info.textLayers, 1);
    assert.equal(model.info.mels, 80);
    assert.equal(model.info.ftype, 1);
  } finally {
    model.close();
  }
});
