/**
 * The whisper.cpp model file ("ggml" format), as `whisper_model_load`
 * reads it; all integers int32 little-endian:
 * - magic 0x67676d6c, then the 11 hparams in {@link WhisperHparams} order;
 * - the mel filterbank: n_mel, n_fft bins, n_mel x bins float32;
 * - the vocabulary: a count, then per token a u32 length and raw bytes;
 * - tensor records to the end of the file: n_dims, name length, ggml
 *   type, the dims innermost first (the numpy shape reversed), the name,
 *   and the row-major data, with no padding anywhere.
 */
import type { MelFilters } from "./mel.js";

/** `GGML_FILE_MAGIC`; on disk the bytes read "lmgg". */
export const GGML_MAGIC = 0x67676d6c;

/** ggml tensor types a whisper model of ftype 0 or 1 uses. */
export const GgmlType = { F32: 0, F16: 1 } as const;

/** One of {@link GgmlType}. */
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** Bytes per element of each {@link GgmlType}. */
export const GGML_TYPE_SIZE: Readonly<Record<GgmlType, number>> = {
  [GgmlType.F32]: 4,
  [GgmlType.F16]: 2,
};

/** The hyper-parameters at the top of a whisper ggml file, in file order. */
export interface WhisperHparams {
  readonly nVocab: number;
  readonly nAudioCtx: number;
  readonly nAudioState: number;
  readonly nAudioHead: number;
  readonly nAudioLayer: number;
  readonly nTextCtx: number;
  readonly nTextState: number;
  readonly nTextHead: number;
  readonly nTextLayer: number;
  readonly nMels: number;
  /** 0: every tensor F32; 1: weight matrices and conv weights F16. */
  readonly ftype: number;
}

const HPARAM_ORDER: readonly (keyof WhisperHparams)[] = [
  "nVocab",
  "nAudioCtx",
  "nAudioState",
  "nAudioHead",
  "nAudioLayer",
  "nTextCtx",
  "nTextState",
  "nTextHead",
  "nTextLayer",
  "nMels",
  "ftype",
];

/** Magic, hparams, mel filters and vocabulary: everything before tensors. */
export function ggmlHeader(
  hparams: WhisperHparams,
  mel: MelFilters,
  tokens: readonly Buffer[],
): Buffer {
  const fixed = Buffer.alloc(4 + 4 * HPARAM_ORDER.length + 8);
  fixed.writeUInt32LE(GGML_MAGIC, 0);
  HPARAM_ORDER.forEach((key, i) => fixed.writeInt32LE(hparams[key], 4 + 4 * i));
  fixed.writeInt32LE(mel.nMels, 4 + 4 * HPARAM_ORDER.length);
  fixed.writeInt32LE(mel.nBins, 8 + 4 * HPARAM_ORDER.length);

  const filters = Buffer.alloc(mel.data.length * 4);
  mel.data.forEach((v, i) => filters.writeFloatLE(v, i * 4));

  const count = Buffer.alloc(4);
  count.writeInt32LE(tokens.length, 0);
  const vocab = tokens.flatMap((t) => {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(t.length, 0);
    return [length, t];
  });
  return Buffer.concat([fixed, filters, count, ...vocab]);
}

/**
 * The record header of one tensor: n_dims, name length, type, the dims
 * of `shape` (numpy order) reversed, and the name. Its data follows.
 */
export function tensorHeader(
  name: string,
  shape: readonly number[],
  type: GgmlType,
): Buffer {
  const nameBytes = Buffer.from(name, "utf8");
  const head = Buffer.alloc(12 + 4 * shape.length);
  head.writeInt32LE(shape.length, 0);
  head.writeInt32LE(nameBytes.length, 4);
  head.writeInt32LE(type, 8);
  [...shape].reverse().forEach((d, i) => head.writeInt32LE(d, 12 + 4 * i));
  return Buffer.concat([head, nameBytes]);
}
