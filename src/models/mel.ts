/**
 * Whisper's mel filterbank, computed: the Slaney-style filters librosa's
 * `filters.mel(sr=16000, n_fft=400, n_mels=N)` returns, which OpenAI
 * saved as whisper/assets/mel_filters.npz and whisper.cpp stores in the
 * header of every ggml model. Mel scale linear below 1 kHz and
 * logarithmic above; triangular filters over the FFT bins; each filter
 * scaled by 2 / (its upper edge - its lower edge) in Hz, so all have the
 * same area.
 */

/** Sample rate Whisper works at. */
export const SAMPLE_RATE = 16_000;

/** FFT window of Whisper's log-mel spectrogram. */
export const N_FFT = 400;

// Slaney's scale: 200/3 Hz per mel up to 1 kHz, then a constant ratio
// of 6.4 per 27 mels.
const HZ_PER_MEL = 200 / 3;
const BREAK_HZ = 1000;
const BREAK_MEL = BREAK_HZ / HZ_PER_MEL;
const LOG_STEP = Math.log(6.4) / 27;

/** Hertz to Slaney mels. */
export function hzToMel(hz: number): number {
  if (hz < BREAK_HZ) return hz / HZ_PER_MEL;
  return BREAK_MEL + Math.log(hz / BREAK_HZ) / LOG_STEP;
}

/** Slaney mels to hertz. */
export function melToHz(mel: number): number {
  if (mel < BREAK_MEL) return mel * HZ_PER_MEL;
  return BREAK_HZ * Math.exp(LOG_STEP * (mel - BREAK_MEL));
}

/** A filterbank: `nMels` rows of `nBins` weights, row-major. */
export interface MelFilters {
  readonly nMels: number;
  /** FFT bins per filter: n_fft / 2 + 1 (201 for Whisper). */
  readonly nBins: number;
  readonly data: Float32Array;
}

/**
 * The filterbank for `nMels` filters (80, or 128 for large-v3) over
 * 0..sampleRate/2. Arithmetic is in float64 and each weight is stored as
 * float32, as librosa does, so the values match the .npz within float32
 * rounding.
 */
export function melFilters(
  nMels: number,
  nFft = N_FFT,
  sampleRate = SAMPLE_RATE,
): MelFilters {
  const nBins = Math.floor(nFft / 2) + 1;
  const binHz = Array.from(
    { length: nBins },
    (_, k) => (k * (sampleRate / 2)) / (nBins - 1),
  );
  const edges = melEdges(nMels, sampleRate / 2);
  const data = new Float32Array(nMels * nBins);

  for (let m = 0; m < nMels; m++) {
    const [lower, centre, upper] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const norm = 2 / (upper - lower);
    for (let k = 0; k < nBins; k++) {
      // Written as librosa does (negating lower - f, and a clamp that
      // keeps -0 like numpy's SIMD maximum) so that even the sign of the
      // first weight, -0, matches the .npz bytes.
      const rising = -(lower - binHz[k]!) / (centre - lower);
      const falling = (upper - binHz[k]!) / (upper - centre);
      const peak = Math.min(rising, falling);
      const weight = peak < 0 ? 0 : peak;
      // librosa stores the triangle in float32 before normalising it.
      data[m * nBins + k] = Math.fround(weight) * norm;
    }
  }
  return { nMels, nBins, data };
}

/** `nMels + 2` frequencies in Hz, evenly spaced in mels from 0 to `maxHz`. */
function melEdges(nMels: number, maxHz: number): number[] {
  const top = hzToMel(maxHz);
  return Array.from({ length: nMels + 2 }, (_, i) =>
    melToHz((top * i) / (nMels + 1)),
  );
}
