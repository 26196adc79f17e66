/**
 * Converts a CTranslate2 Whisper model folder (model.bin plus a
 * vocabulary) into a whisper.cpp ggml model. Tensors are streamed from
 * model.bin to the output a few MiB at a time, so memory stays small
 * whatever the model's size; the output's SHA-256 is computed as it is
 * written. Weight matrices are written F16 (ftype 1), the rest F32.
 */
import { open, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";

import { ConfigError } from "../errors.js";
import { readCt2Index, readScalar } from "./ct2.js";
import type { Ct2Index, Ct2Type, Ct2Variable } from "./ct2.js";
import { convertFloats, FLOAT_SIZE } from "./float16.js";
import type { FloatType } from "./float16.js";
import { GgmlType, ggmlHeader, tensorHeader } from "./ggml.js";
import type { WhisperHparams } from "./ggml.js";
import { melFilters } from "./mel.js";
import { ggmlTokens, readVocabulary } from "./vocab.js";
import { whisperPlan } from "./whisper-map.js";
import type { DroppedSlice, TensorPlan } from "./whisper-map.js";
import { HashingFileWriter } from "./writer.js";

/** What a conversion wrote. */
export interface ConvertResult {
  readonly hparams: WhisperHparams;
  /** Tokens in the ggml vocabulary (whisper.cpp adds the rest). */
  readonly vocabTokens: number;
  readonly tensors: number;
  /** Size of the output file. */
  readonly bytes: number;
  /** Hex SHA-256 of the output file. */
  readonly sha256: string;
}

/** Source bytes read per step when copying a tensor. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Converts the CTranslate2 Whisper model in `folder` to a ggml model at
 * `dest`, which must not exist (pass a temp name and rename it after).
 * On failure `dest` is removed.
 *
 * @throws ConfigError when the folder is not a CTranslate2 Whisper model
 *   or uses a layout or type this converter does not handle.
 */
export async function convertCt2Whisper(
  folder: string,
  dest: string,
): Promise<ConvertResult> {
  const modelFile = path.join(folder, "model.bin");
  const index = await readCt2Index(modelFile);
  if (index.spec !== "WhisperSpec") {
    throw new ConfigError(
      `${modelFile} holds a ${index.spec || "unnamed"} model, not a Whisper one (WhisperSpec)`,
      "E_MODEL_FORMAT",
    );
  }
  const tokens = ggmlTokens(await readVocabulary(folder));

  const source = await open(modelFile, "r");
  let out: HashingFileWriter | undefined;
  try {
    const hparams = await whisperHparams(index, source, modelFile);
    const plan = whisperPlan(hparams.nAudioLayer, hparams.nTextLayer);
    const model = new SourceModel(index, source, modelFile);
    for (const slice of plan.dropped) await model.checkZero(slice);

    out = await HashingFileWriter.create(dest);
    await out.write(ggmlHeader(hparams, melFilters(hparams.nMels), tokens));
    for (const tensor of plan.tensors) await model.copy(tensor, out);
    const bytes = out.bytes;
    const sha256 = await out.finish();
    return {
      hparams,
      vocabTokens: tokens.length,
      tensors: plan.tensors.length,
      bytes,
      sha256,
    };
  } catch (err) {
    await out?.abandon();
    await rm(dest, { force: true });
    throw err;
  } finally {
    await source.close();
  }
}

/** Hparams from the variables' shapes, names and head-count scalars. */
async function whisperHparams(
  index: Ct2Index,
  source: FileHandle,
  file: string,
): Promise<WhisperHparams> {
  const dims = (name: string, rank: number): readonly number[] => {
    const v = required(index, name, file);
    if (v.dims.length !== rank) {
      throw formatError(file, `${name} has rank ${v.dims.length}, not ${rank}`);
    }
    return v.dims;
  };
  const [nVocab = 0, nTextState = 0] = dims("decoder/embeddings/weight", 2);
  const [nAudioCtx = 0, nAudioState = 0] = dims(
    "encoder/position_encodings/encodings",
    2,
  );
  const [nTextCtx = 0] = dims("decoder/position_encodings/encodings", 2);
  const [, nMels = 0, kernel] = dims("encoder/conv1/weight", 3);
  if (nAudioState !== nTextState || kernel !== 3) {
    throw formatError(
      file,
      `encoder width ${nAudioState}, decoder width ${nTextState} and conv kernel ${kernel} do not make a Whisper model`,
    );
  }
  const heads = async (name: string): Promise<number> =>
    readScalar(source, required(index, name, file));
  return {
    nVocab,
    nAudioCtx,
    nAudioState,
    nAudioHead: await heads("encoder/num_heads"),
    nAudioLayer: countLayers(index, "encoder"),
    nTextCtx,
    nTextState,
    nTextHead: await heads("decoder/num_heads"),
    nTextLayer: countLayers(index, "decoder"),
    nMels,
    ftype: 1,
  };
}

/** Layers are numbered from 0: the count is the first missing number. */
function countLayers(index: Ct2Index, side: "encoder" | "decoder"): number {
  let n = 0;
  while (index.variables.has(`${side}/layer_${n}/ffn/linear_0/weight`)) n++;
  return n;
}

function required(index: Ct2Index, name: string, file: string): Ct2Variable {
  const v = index.variables.get(name);
  if (v === undefined) throw formatError(file, `it has no variable ${name}`);
  return v;
}

function formatError(file: string, what: string): ConfigError {
  return new ConfigError(
    `${file} is not a Whisper model this converter handles: ${what}`,
    "E_MODEL_FORMAT",
  );
}

const FLOAT_TYPES: readonly Ct2Type[] = ["float32", "float16", "bfloat16"];

/** The open model.bin and its index: reads tensor bytes by plan. */
class SourceModel {
  constructor(
    private readonly index: Ct2Index,
    private readonly handle: FileHandle,
    private readonly file: string,
  ) {}

  /** Writes one tensor record: header, then its data in chunks. */
  async copy(tensor: TensorPlan, out: HashingFileWriter): Promise<void> {
    const v = this.variable(tensor.source);
    const type = tensor.matrix ? GgmlType.F16 : GgmlType.F32;
    await out.write(tensorHeader(tensor.name, this.shape(tensor, v), type));

    const { start, length } = this.byteRange(v, tensor.part);
    const to = type === GgmlType.F16 ? "float16" : "float32";
    const from = v.type as FloatType;
    const step = CHUNK_BYTES - (CHUNK_BYTES % FLOAT_SIZE[from]);
    for (let done = 0; done < length; done += step) {
      const bytes = await this.read(
        start + done,
        Math.min(step, length - done),
      );
      await out.write(convertFloats(bytes, from, to));
    }
  }

  /** Fails unless the slice of a fused bias holds only zeros. */
  async checkZero(slice: DroppedSlice): Promise<void> {
    const v = this.variable(slice.source);
    const { start, length } = this.byteRange(v, slice.part);
    const bytes = await this.read(start, length);
    // +0 and -0 are both zero; in every float type that is "no bit set
    // but the sign".
    const size = FLOAT_SIZE[v.type as FloatType];
    for (let i = 0; i < bytes.length; i += size) {
      const top = bytes[i + size - 1]! & 0x7f;
      if (top !== 0 || bytes.subarray(i, i + size - 1).some((b) => b !== 0)) {
        throw formatError(
          this.file,
          `${slice.source} part ${slice.part.index + 1} of ${slice.part.of} (a key bias) is not zero, so the fused layout is not the one expected`,
        );
      }
    }
  }

  private variable(name: string): Ct2Variable {
    const v = required(this.index, name, this.file);
    if (!FLOAT_TYPES.includes(v.type)) {
      // TODO: int8 models (quantization int8_*) store `<name>_scale` per
      // row; dequantizing them here would need w = int8 / scale per row.
      throw formatError(
        this.file,
        `${name} is ${v.type}; only float16, bfloat16 and float32 models convert (re-convert with CTranslate2's --quantization float16)`,
      );
    }
    return v;
  }

  /** The numpy shape of the output tensor. */
  private shape(tensor: TensorPlan, v: Ct2Variable): number[] {
    const [rows = 1, ...rest] = v.dims;
    const parts = tensor.part?.of ?? 1;
    if (rows % parts !== 0) {
      throw formatError(
        this.file,
        `${v.name} has ${rows} rows, not divisible into ${parts} parts`,
      );
    }
    if (tensor.column) return [rows, 1];
    return [rows / parts, ...rest];
  }

  private byteRange(
    v: Ct2Variable,
    part: TensorPlan["part"],
  ): { start: number; length: number } {
    if (part === undefined) return { start: v.offset, length: v.byteLength };
    const length = v.byteLength / part.of;
    return { start: v.offset + part.index * length, length };
  }

  private async read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.handle.read(buf, 0, length, position);
    if (bytesRead !== length) {
      throw formatError(this.file, `truncated at offset ${position}`);
    }
    return buf;
  }
}
