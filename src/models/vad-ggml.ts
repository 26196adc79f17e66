/**
 * The ggml file of a Silero VAD model, as whisper.cpp's VAD loader
 * (`whisper_vad_init_with_params`) reads it: int32 little-endian header
 * (magic, model type, version, window, context, layer sizes), then tensor
 * records until the end of the file. Conv weights and the STFT basis are
 * float16, everything else float32, dims innermost first. The layout and
 * the order of tensors follow whisper.cpp's own converter, so a file made
 * here is byte for byte the file that converter makes.
 */

import { floatToHalf } from "./float16.js";
import type { FloatTensor } from "./vad-torchscript.js";

const GGML_MAGIC = 0x67676d6c;
const MODEL_TYPE = "silero-16k";
/** Samples per VAD window at 16 kHz, and the context carried between. */
const WINDOW = 512;
const CONTEXT = 64;
const ENCODER_IN = [129, 128, 64, 64] as const;
const ENCODER_OUT = [128, 64, 64, 128] as const;
const KERNEL = 3;
const LSTM_SIZE = 128;

/** ggml tensor types used here. */
export const GGML_F32 = 0;
export const GGML_F16 = 1;

/** One tensor the loader wants: source shape (torch order) and type. */
interface TensorPlan {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: typeof GGML_F32 | typeof GGML_F16;
  /** Keep size-1 dims (the STFT basis); others are squeezed. */
  readonly keepDims?: boolean;
}

/** The 16 kHz model's tensors, in the order whisper.cpp's converter writes. */
const PLAN: readonly TensorPlan[] = [
  ...ENCODER_OUT.flatMap((out, i): TensorPlan[] => [
    {
      name: `_model.encoder.${i}.reparam_conv.weight`,
      shape: [out, ENCODER_IN[i]!, KERNEL],
      type: GGML_F16,
    },
    {
      name: `_model.encoder.${i}.reparam_conv.bias`,
      shape: [out],
      type: GGML_F32,
    },
  ]),
  {
    name: "_model.decoder.rnn.weight_ih",
    shape: [4 * LSTM_SIZE, LSTM_SIZE],
    type: GGML_F32,
  },
  {
    name: "_model.decoder.rnn.weight_hh",
    shape: [4 * LSTM_SIZE, LSTM_SIZE],
    type: GGML_F32,
  },
  {
    name: "_model.decoder.rnn.bias_ih",
    shape: [4 * LSTM_SIZE],
    type: GGML_F32,
  },
  {
    name: "_model.decoder.rnn.bias_hh",
    shape: [4 * LSTM_SIZE],
    type: GGML_F32,
  },
  {
    name: "_model.decoder.decoder.2.weight",
    shape: [1, LSTM_SIZE, 1],
    type: GGML_F16,
  },
  { name: "_model.decoder.decoder.2.bias", shape: [1], type: GGML_F32 },
  {
    name: "_model.stft.forward_basis_buffer",
    shape: [258, 1, 256],
    type: GGML_F16,
    keepDims: true,
  },
];

/** Names of the tensors a ggml Silero VAD file holds, in file order. */
export const VAD_TENSOR_NAMES: readonly string[] = PLAN.map((p) => p.name);

/**
 * Writes the ggml VAD file for `tensors` (read from a Silero TorchScript
 * model) with `version` ("6.2.0") in its header. Throws when a tensor is
 * missing or has a shape whisper.cpp's graph cannot use.
 */
export function sileroToGgml(
  tensors: ReadonlyMap<string, FloatTensor>,
  version: string,
): Buffer {
  const parts: Buffer[] = [header(version)];
  for (const plan of PLAN) {
    const tensor = tensors.get(plan.name);
    if (!tensor) throw new Error(`Silero model has no tensor ${plan.name}`);
    if (tensor.shape.join(",") !== plan.shape.join(",")) {
      throw new Error(
        `Silero tensor ${plan.name} has shape [${tensor.shape.join(", ")}]; whisper.cpp expects [${plan.shape.join(", ")}]`,
      );
    }
    parts.push(tensorRecord(plan, tensor.data));
  }
  return Buffer.concat(parts);
}

function header(version: string): Buffer {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`Silero version "${version}" is not x.y.z`);
  const type = Buffer.from(MODEL_TYPE, "utf8");
  const ints = [
    Number(match[1]),
    Number(match[2]),
    Number(match[3]),
    WINDOW,
    CONTEXT,
    ENCODER_OUT.length,
    ...ENCODER_OUT.flatMap((out, i) => [ENCODER_IN[i]!, out, KERNEL]),
    LSTM_SIZE, // LSTM input
    LSTM_SIZE, // LSTM hidden
    LSTM_SIZE, // final conv in
    1, // final conv out: one speech probability
  ];
  return Buffer.concat([int32s([GGML_MAGIC, type.length]), type, int32s(ints)]);
}

function tensorRecord(plan: TensorPlan, data: Float32Array): Buffer {
  // ggml lists dims innermost first: the torch shape reversed.
  const dims = plan.keepDims
    ? [...plan.shape]
    : plan.shape.filter((d) => d !== 1);
  const ne = dims.reverse();
  const name = Buffer.from(plan.name, "utf8");
  const head = int32s([ne.length, name.length, plan.type, ...ne]);
  const body = plan.type === GGML_F16 ? float16Bytes(data) : float32Bytes(data);
  return Buffer.concat([head, name, body]);
}

function int32s(values: readonly number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeInt32LE(v, i * 4));
  return out;
}

function float32Bytes(data: Float32Array): Buffer {
  const out = Buffer.alloc(data.length * 4);
  data.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

function float16Bytes(data: Float32Array): Buffer {
  const out = Buffer.alloc(data.length * 2);
  data.forEach((v, i) => out.writeUInt16LE(floatToHalf(v), i * 2));
  return out;
}

/** The header of a ggml VAD file. */
export interface VadGgmlHeader {
  readonly modelType: string;
  readonly version: string;
  readonly window: number;
  readonly context: number;
  /** in, out, kernel per encoder layer. */
  readonly encoder: readonly (readonly [number, number, number])[];
  readonly lstmInput: number;
  readonly lstmHidden: number;
  readonly finalConvIn: number;
  readonly finalConvOut: number;
}

/** One tensor record of a ggml VAD file. */
export interface VadGgmlTensor {
  readonly name: string;
  /** Dims innermost first, as ggml writes them. */
  readonly ne: readonly number[];
  readonly type: number;
  /** The raw data bytes (a view into the file). */
  readonly data: Buffer;
}

/**
 * Parses a ggml VAD file the way whisper.cpp's loader does. Throws a clear
 * Error on a bad magic, a truncated record or an unknown tensor type.
 */
export function readVadGgml(file: Buffer): {
  header: VadGgmlHeader;
  tensors: VadGgmlTensor[];
} {
  const r = new Reader(file);
  if (r.i32() >>> 0 !== GGML_MAGIC) {
    throw new Error("not a ggml file (bad magic)");
  }
  const modelType = r.bytes(r.i32()).toString("utf8");
  const version = [r.i32(), r.i32(), r.i32()].join(".");
  const window = r.i32();
  const context = r.i32();
  const layers = r.i32();
  const encoder = Array.from(
    { length: layers },
    () => [r.i32(), r.i32(), r.i32()] as const,
  );
  const [lstmInput, lstmHidden, finalConvIn, finalConvOut] = [
    r.i32(),
    r.i32(),
    r.i32(),
    r.i32(),
  ];
  const header = {
    ...{ modelType, version, window, context, encoder },
    ...{ lstmInput, lstmHidden, finalConvIn, finalConvOut },
  };

  const tensors: VadGgmlTensor[] = [];
  while (!r.done()) {
    const [nDims, nameLength, type] = [r.i32(), r.i32(), r.i32()];
    if (type !== GGML_F32 && type !== GGML_F16) {
      throw new Error(`ggml tensor type ${type} is not f32 or f16`);
    }
    const ne = Array.from({ length: nDims }, () => r.i32());
    const name = r.bytes(nameLength).toString("utf8");
    const count = ne.reduce((a, b) => a * b, 1);
    const data = r.bytes(count * (type === GGML_F16 ? 2 : 4));
    tensors.push({ name, ne, type, data });
  }
  return { header, tensors };
}

/** Sequential little-endian reads with a clear error at a short file. */
class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  i32(): number {
    return this.bytes(4).readInt32LE(0);
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new Error(`ggml file is truncated at byte ${this.pos}`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
