/**
 * A reader of whisper.cpp ggml model files for tests, written from the
 * loader's order of reads (whisper_model_load): magic, 11 hparams, mel
 * filters, vocabulary, then tensor records to the end of the file.
 */
import { readFile } from "node:fs/promises";

/** One tensor record. */
export interface GgmlTensor {
  name: string;
  /** Dims innermost first, as in the file. */
  ne: number[];
  /** 0 = F32, 1 = F16. */
  type: number;
  /** The record's data bytes. */
  data: Buffer;
}

/** Everything in a ggml whisper file. */
export interface GgmlFile {
  magic: number;
  hparams: number[];
  nMel: number;
  nFft: number;
  /** The filterbank bytes (float32 LE). */
  filters: Buffer;
  tokens: Buffer[];
  tensors: GgmlTensor[];
  /** Bytes before the first tensor record. */
  headerBytes: number;
}

/** Parses the ggml file at `file`. */
export async function readGgml(file: string): Promise<GgmlFile> {
  const buf = await readFile(file);
  let pos = 0;
  const i32 = (): number => {
    const v = buf.readInt32LE(pos);
    pos += 4;
    return v;
  };
  const u32 = (): number => {
    const v = buf.readUInt32LE(pos);
    pos += 4;
    return v;
  };
  const take = (n: number): Buffer => {
    if (pos + n > buf.length) throw new Error(`truncated at ${pos}`);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };

  const magic = buf.readUInt32LE(0);
  pos = 4;
  const hparams = Array.from({ length: 11 }, i32);
  const nMel = i32();
  const nFft = i32();
  const filters = take(nMel * nFft * 4);
  const tokens = Array.from({ length: i32() }, () => take(u32()));
  const headerBytes = pos;

  const tensors: GgmlTensor[] = [];
  while (pos < buf.length) {
    const nDims = i32();
    const nameLength = i32();
    const type = i32();
    const ne = Array.from({ length: nDims }, i32);
    const name = take(nameLength).toString("utf8");
    const elements = ne.reduce((a, b) => a * b, 1);
    const data = take(elements * (type === 0 ? 4 : 2));
    tensors.push({ name, ne, type, data });
  }
  return { magic, hparams, nMel, nFft, filters, tokens, tensors, headerBytes };
}
