/**
 * Writes an "empty" whisper.cpp ggml model for tests: the header with
 * tiny.en's hyper-parameters, a real mel filterbank, a small vocabulary and
 * no tensors. whisper.cpp loads it ("no tensors loaded ... assuming empty
 * model"), runs the full encoder and decoder over weights it leaves unset,
 * and decodes to no segments, which is what tests of the engine need: the
 * real cost of inference without a 75 MB download.
 */
import { writeFile } from "node:fs/promises";

/** The ggml magic, "lmgg" on disk. */
const GGML_MAGIC = 0x67676d6c;
const SAMPLE_RATE = 16000;
const N_FFT = 400;
const N_MELS = 80;

/** Options of {@link emptyModel}. */
export interface EmptyModelOptions {
  /**
   * A multilingual model (n_vocab 51865, like `tiny`) instead of an
   * English-only one (51864, like `tiny.en`).
   */
  multilingual?: boolean;
  /**
   * Tokens to write, in id order; whisper.cpp makes up the rest. It must
   * contain `" "`, or decoding fails. Default: the 95 printable ASCII
   * characters, each one token.
   */
  vocabulary?: readonly string[];
}

/** The bytes of an empty model. */
export function emptyModel(options: EmptyModelOptions = {}): Buffer {
  const vocabulary = options.vocabulary ?? printableAscii();
  const hparams = [
    options.multilingual ? 51865 : 51864, // n_vocab
    1500, // n_audio_ctx
    384, // n_audio_state
    6, // n_audio_head
    4, // n_audio_layer
    448, // n_text_ctx
    384, // n_text_state
    6, // n_text_head
    4, // n_text_layer
    N_MELS,
    1, // ftype: mostly f16
  ];
  const header = Buffer.alloc(4 + 4 * hparams.length);
  header.writeUInt32LE(GGML_MAGIC, 0);
  hparams.forEach((v, i) => header.writeInt32LE(v, 4 + 4 * i));
  return Buffer.concat([header, melFilters(), vocabularyBytes(vocabulary)]);
}

/** Writes an empty model to `path`. */
export async function writeEmptyModel(
  path: string,
  options: EmptyModelOptions = {},
): Promise<void> {
  await writeFile(path, emptyModel(options));
}

function printableAscii(): string[] {
  return Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
}

/** `i32 n_mel, i32 n_fft, f32[n_mel][n_fft]`: Whisper's filterbank. */
function melFilters(): Buffer {
  const bins = N_FFT / 2 + 1;
  const weights = slaneyMelFilterbank(N_MELS, bins);
  const out = Buffer.alloc(8 + 4 * weights.length);
  out.writeInt32LE(N_MELS, 0);
  out.writeInt32LE(bins, 4);
  weights.forEach((w, i) => out.writeFloatLE(w, 8 + 4 * i));
  return out;
}

/**
 * Triangular filters evenly spaced on the Slaney mel scale (linear below
 * 1 kHz, logarithmic above) from 0 Hz to Nyquist, each scaled to unit area
 * (2 / bandwidth in Hz): the filterbank Whisper was trained with.
 */
function slaneyMelFilterbank(mels: number, bins: number): Float32Array {
  const top = hzToMel(SAMPLE_RATE / 2);
  const edges = Array.from({ length: mels + 2 }, (_, i) =>
    melToHz((top * i) / (mels + 1)),
  );
  const weights = new Float32Array(mels * bins);
  for (let m = 0; m < mels; m++) {
    const [lo, mid, hi] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    for (let k = 0; k < bins; k++) {
      const hz = (k * SAMPLE_RATE) / N_FFT;
      const rising = (hz - lo) / (mid - lo);
      const falling = (hi - hz) / (hi - mid);
      const w = Math.max(0, Math.min(rising, falling));
      weights[m * bins + k] = (w * 2) / (hi - lo);
    }
  }
  return weights;
}

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number): number {
  if (hz < MIN_LOG_HZ) return hz / F_SP;
  return MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
}

function melToHz(mel: number): number {
  if (mel < MIN_LOG_MEL) return mel * F_SP;
  return MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
}

/** `i32 count`, then per token `u32 length` and its UTF-8 bytes. */
function vocabularyBytes(tokens: readonly string[]): Buffer {
  if (!tokens.includes(" ")) {
    throw new Error('an empty model\'s vocabulary must contain the token " "');
  }
  const parts: Buffer[] = [int32(tokens.length)];
  for (const token of tokens) {
    const bytes = Buffer.from(token, "utf8");
    parts.push(int32(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}
