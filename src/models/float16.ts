/**
 * IEEE 754 half precision (binary16) and bfloat16 to and from float32, on
 * little-endian byte buffers, as model files store them. Node 20 has no
 * Float16Array, so the bits are taken apart by hand.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float32 value of the half-precision bits `h` (0..0xffff). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero, subnormal
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * The half-precision bits nearest to `value`, rounding to nearest even as
 * numpy's `astype(float16)` does; overflow gives infinity, NaN stays NaN.
 */
export function floatToHalf(value: number): number {
  F32[0] = value;
  const bits = U32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A half subnormal (or zero): shift the full significand into place.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(significand, shift);
  }
  // The carry of a rounding that overflows the mantissa lands in the
  // exponent, which is the right answer (up to infinity).
  return sign | ((e << 10) + roundShift(mantissa, 13));
}

/** `value >> shift`, rounded to nearest with ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  if (rest > half || (rest === half && (kept & 1) === 1)) return kept + 1;
  return kept;
}

/** The float32 value of the bfloat16 bits `b` (the top half of a float32). */
export function bfloat16ToFloat(b: number): number {
  U32[0] = (b & 0xffff) << 16;
  return F32[0]!;
}

/** Element types a model file may store and this module converts. */
export type FloatType = "float32" | "float16" | "bfloat16";

/** Bytes per element of each {@link FloatType}. */
export const FLOAT_SIZE: Readonly<Record<FloatType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
};

/**
 * Converts little-endian elements of type `from` in `src` to type `to`.
 * `to` is float32 or float16 (the types ggml files use). The source may
 * sit at any byte offset; a buffer of the same type is returned as is.
 */
export function convertFloats(
  src: Buffer,
  from: FloatType,
  to: "float32" | "float16",
): Buffer {
  if (from === to) return src;
  const count = src.length / FLOAT_SIZE[from];
  const out = Buffer.allocUnsafe(count * FLOAT_SIZE[to]);
  const read = reader(src, from);
  if (to === "float32") {
    for (let i = 0; i < count; i++) out.writeFloatLE(read(i), i * 4);
  } else {
    for (let i = 0; i < count; i++) {
      out.writeUInt16LE(floatToHalf(read(i)), i * 2);
    }
  }
  return out;
}

let halfTable: Float32Array | undefined;

/** Every half's float32 value: 256 KiB that make conversion a lookup. */
function halves(): Float32Array {
  if (halfTable === undefined) {
    halfTable = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

function reader(src: Buffer, type: FloatType): (i: number) => number {
  switch (type) {
    case "float32":
      return (i) => src.readFloatLE(i * 4);
    case "float16": {
      const table = halves();
      return (i) => table[src.readUInt16LE(i * 2)]!;
    }
    case "bfloat16":
      return (i) => bfloat16ToFloat(src.readUInt16LE(i * 2));
  }
}
