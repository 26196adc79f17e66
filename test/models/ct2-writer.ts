/**
 * A writer of CTranslate2 model.bin files for tests, written from the
 * format (see src/models/ct2.ts), not from the reader: variables sorted by
 * name, strings with a length that counts their NUL, aliases at the end.
 * `syntheticWhisper` builds a small WhisperSpec model with every variable
 * CTranslate2's Whisper converter writes, filled with distinct values.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { floatToHalf } from "../../src/models/float16.js";

/** Type ids of CTranslate2's DataType enum. */
export const TYPE_ID = {
  float32: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  float16: 4,
  bfloat16: 5,
} as const;

/** One variable to write. */
export interface Ct2Var {
  name: string;
  dims: number[];
  type: keyof typeof TYPE_ID;
  data: Buffer;
}

/** What to write into a model.bin. */
export interface Ct2Model {
  version?: number;
  spec?: string;
  revision?: number;
  variables: Ct2Var[];
  aliases?: [alias: string, target: string][];
}

function str(s: string): Buffer {
  const bytes = Buffer.from(s, "utf8");
  const out = Buffer.alloc(2 + bytes.length + 1);
  out.writeUInt16LE(bytes.length + 1, 0);
  bytes.copy(out, 2);
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** The bytes of a model.bin. */
export function ct2Bytes(model: Ct2Model): Buffer {
  const parts: Buffer[] = [
    u32(model.version ?? 6),
    str(model.spec ?? "WhisperSpec"),
    u32(model.revision ?? 3),
    u32(model.variables.length),
  ];
  const sorted = [...model.variables].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const v of sorted) {
    parts.push(str(v.name), Buffer.from([v.dims.length]));
    for (const d of v.dims) parts.push(u32(d));
    parts.push(Buffer.from([TYPE_ID[v.type]]), u32(v.data.length), v.data);
  }
  const aliases = model.aliases ?? [];
  parts.push(u32(aliases.length));
  for (const [alias, target] of aliases) parts.push(str(alias), str(target));
  return Buffer.concat(parts);
}

/** Shape of a synthetic Whisper model; every field has a small default. */
export interface WhisperShape {
  state: number;
  heads: number;
  audioLayers: number;
  textLayers: number;
  nMels: number;
  audioCtx: number;
  textCtx: number;
  /** Text tokens before the specials; vocabulary is these plus specials. */
  textTokens: string[];
  /** Extra special tokens after <|endoftext|>. */
  specials: string[];
  /** Type of the float tensors. */
  type: "float16" | "float32";
}

/** Defaults: 8 wide, 2 heads, 2+2 layers, 80 mels. */
export const SMALL: WhisperShape = {
  state: 8,
  heads: 2,
  audioLayers: 2,
  textLayers: 2,
  nMels: 80,
  audioCtx: 10,
  textCtx: 6,
  textTokens: ["!", "Ġthe", "Ċ", "âĢĻ", "Ġ", "hello"],
  specials: ["<|startoftranscript|>", "<|en|>", "<|0.00|>"],
  type: "float16",
};

let counter = 0;

/** `n` floats of `type`, each a distinct value (so misplaced data shows). */
export function floats(n: number, type: "float16" | "float32"): Buffer {
  const size = type === "float16" ? 2 : 4;
  const out = Buffer.alloc(n * size);
  for (let i = 0; i < n; i++) {
    // Multiples of 1/64 up to 32 are exact in half precision.
    const value = ((counter++ % 4000) - 2000) / 64;
    if (type === "float16") out.writeUInt16LE(floatToHalf(value), i * 2);
    else out.writeFloatLE(value, i * 4);
  }
  return out;
}

function tensor(
  name: string,
  dims: number[],
  type: WhisperShape["type"],
): Ct2Var {
  return {
    name,
    dims,
    type,
    data: floats(
      dims.reduce((a, b) => a * b, 1),
      type,
    ),
  };
}

function scalar(name: string, type: "int8" | "int16", value: number): Ct2Var {
  const data = Buffer.alloc(type === "int8" ? 1 : 2);
  if (type === "int8") data.writeInt8(value, 0);
  else data.writeInt16LE(value, 0);
  return { name, dims: [], type, data };
}

/** A fused bias whose part `zeroPart` of `parts` is zero, like the key's. */
function fusedBias(
  name: string,
  rows: number,
  parts: number,
  zeroPart: number,
  type: WhisperShape["type"],
): Ct2Var {
  const v = tensor(name, [rows], type);
  const part = v.data.length / parts;
  v.data.fill(0, zeroPart * part, (zeroPart + 1) * part);
  return v;
}

function attention(prefix: string, s: WhisperShape): Ct2Var[] {
  const d = s.state;
  return [
    tensor(`${prefix}/layer_norm/gamma`, [d], s.type),
    tensor(`${prefix}/layer_norm/beta`, [d], s.type),
  ];
}

function ffn(prefix: string, s: WhisperShape): Ct2Var[] {
  const d = s.state;
  return [
    tensor(`${prefix}/layer_norm/gamma`, [d], s.type),
    tensor(`${prefix}/layer_norm/beta`, [d], s.type),
    tensor(`${prefix}/linear_0/weight`, [4 * d, d], s.type),
    tensor(`${prefix}/linear_0/bias`, [4 * d], s.type),
    tensor(`${prefix}/linear_1/weight`, [d, 4 * d], s.type),
    tensor(`${prefix}/linear_1/bias`, [d], s.type),
  ];
}

function selfAttention(prefix: string, s: WhisperShape): Ct2Var[] {
  const d = s.state;
  return [
    ...attention(prefix, s),
    tensor(`${prefix}/linear_0/weight`, [3 * d, d], s.type),
    fusedBias(`${prefix}/linear_0/bias`, 3 * d, 3, 1, s.type),
    tensor(`${prefix}/linear_1/weight`, [d, d], s.type),
    tensor(`${prefix}/linear_1/bias`, [d], s.type),
  ];
}

function crossAttention(prefix: string, s: WhisperShape): Ct2Var[] {
  const d = s.state;
  return [
    ...attention(prefix, s),
    tensor(`${prefix}/linear_0/weight`, [d, d], s.type),
    tensor(`${prefix}/linear_0/bias`, [d], s.type),
    tensor(`${prefix}/linear_1/weight`, [2 * d, d], s.type),
    fusedBias(`${prefix}/linear_1/bias`, 2 * d, 2, 0, s.type),
    tensor(`${prefix}/linear_2/weight`, [d, d], s.type),
    tensor(`${prefix}/linear_2/bias`, [d], s.type),
  ];
}

/** The full vocabulary of a synthetic model: text, <|endoftext|>, specials. */
export function vocabularyOf(s: WhisperShape): string[] {
  return [...s.textTokens, "<|endoftext|>", ...s.specials];
}

/** Every variable of a WhisperSpec model of shape `s`. */
export function syntheticWhisper(s: WhisperShape = SMALL): Ct2Model {
  const d = s.state;
  const vocab = vocabularyOf(s).length;
  const variables: Ct2Var[] = [
    tensor("encoder/conv1/weight", [d, s.nMels, 3], s.type),
    tensor("encoder/conv1/bias", [d], s.type),
    tensor("encoder/conv2/weight", [d, d, 3], s.type),
    tensor("encoder/conv2/bias", [d], s.type),
    tensor("encoder/position_encodings/encodings", [s.audioCtx, d], s.type),
    tensor("encoder/layer_norm/gamma", [d], s.type),
    tensor("encoder/layer_norm/beta", [d], s.type),
    scalar("encoder/num_heads", "int16", s.heads),
    tensor("decoder/embeddings/weight", [vocab, d], s.type),
    tensor("decoder/position_encodings/encodings", [s.textCtx, d], s.type),
    tensor("decoder/layer_norm/gamma", [d], s.type),
    tensor("decoder/layer_norm/beta", [d], s.type),
    scalar("decoder/num_heads", "int16", s.heads),
    scalar("decoder/activation", "int8", 3),
    scalar("decoder/pre_norm", "int8", 1),
    scalar("decoder/scale_embeddings", "int8", 0),
    scalar("decoder/alignment_layer", "int16", -1),
    scalar("decoder/alignment_heads", "int16", 1),
  ];
  for (let i = 0; i < s.audioLayers; i++) {
    const p = `encoder/layer_${i}`;
    variables.push(
      ...selfAttention(`${p}/self_attention`, s),
      ...ffn(`${p}/ffn`, s),
    );
  }
  for (let i = 0; i < s.textLayers; i++) {
    const p = `decoder/layer_${i}`;
    variables.push(
      ...selfAttention(`${p}/self_attention`, s),
      ...crossAttention(`${p}/attention`, s),
      ...ffn(`${p}/ffn`, s),
    );
  }
  return {
    variables,
    aliases: [["decoder/projection/weight", "decoder/embeddings/weight"]],
  };
}

/** Writes a model folder: model.bin, config.json and a vocabulary file. */
export async function writeCt2Folder(
  dir: string,
  model: Ct2Model,
  vocabulary: string[],
  vocabFile:
    "vocabulary.json" | "vocabulary.txt" | "tokenizer.json" = "vocabulary.json",
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "model.bin"), ct2Bytes(model));
  await writeFile(
    path.join(dir, "config.json"),
    JSON.stringify({ suppress_ids: [] }),
  );
  await writeFile(
    path.join(dir, vocabFile),
    vocabularyText(vocabulary, vocabFile),
  );
}

function vocabularyText(tokens: string[], file: string): string {
  if (file === "vocabulary.json") return JSON.stringify(tokens);
  if (file === "vocabulary.txt") return tokens.map((t) => `${t}\n`).join("");
  const end = tokens.indexOf("<|endoftext|>");
  const vocab = Object.fromEntries(tokens.slice(0, end).map((t, i) => [t, i]));
  const added = tokens
    .slice(end)
    .map((content, i) => ({ id: end + i, content }));
  return JSON.stringify({ model: { type: "BPE", vocab }, added_tokens: added });
}
