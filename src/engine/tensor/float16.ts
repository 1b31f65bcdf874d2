/**
 * IEEE 754 half precision <-> float32, for SD packs exported with fp16 weights. The engine
 * computes in float32; the runtime adapter converts at the session boundary, so nothing else
 * needs to know a pack's precision. Rounding is to nearest, ties to even (what numpy's
 * astype(float16) and PyTorch's .half() do), so fp16 -> fp32 -> fp16 is lossless.
 */
import { Float16Tensor, Float32Tensor, float16, float32 } from './tensor';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // inf or NaN (kept quiet)
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal -> signed zero
    mant |= 0x800000; // make the implicit bit explicit, then shift into the subnormal range
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and rounds 65520 up to inf).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function float32ToFloat16(t: Float32Tensor): Float16Tensor {
  const bits = new Uint16Array(t.data.length);
  for (let i = 0; i < bits.length; i++) bits[i] = toHalfBits(t.data[i]!);
  return float16(t.dims, bits);
}

export function float16ToFloat32(t: Float16Tensor): Float32Tensor {
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fromHalfBits(t.data[i]!);
  return float32(t.dims, out);
}
