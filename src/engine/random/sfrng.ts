/**
 * StoryForge's seeded generator: a bit-for-bit port of models/story-world/sfrng.py.
 *
 * xoshiro128** seeded through splitmix32 from a 32-bit seed. The engine has no unseeded
 * randomness: every function that needs randomness takes one of these, so a seed recorded
 * with a generation reproduces it exactly, on any machine, in Python and in TypeScript.
 */

const TWO_24 = 16777216;

/** splitmix32 step: returns the next state and its mixed output. */
function splitmix32(x: number): [number, number] {
  const next = (x + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [next, (z ^ (z >>> 16)) >>> 0];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** (a * n) >> 32 for a, n < 2^32, exact: the product needs 64 bits, doubles hold 53. */
function mulHigh32(a: number, n: number): number {
  const hi = a >>> 16;
  const lo = a & 0xffff;
  // floor((hi*n*2^16 + lo*n) / 2^32) = floor((hi*n + floor(lo*n / 2^16)) / 2^16); each product < 2^48.
  return Math.floor((hi * n + Math.floor((lo * n) / 65536)) / 65536);
}

export class Rng {
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng seed must be an integer, got ${seed}`);
    // Python masks with 0xFFFFFFFF; >>> 0 does the same for any integer below 2^53.
    let x = Number(BigInt(seed) & 0xffffffffn);
    for (let i = 0; i < 4; i++) {
      const [next, z] = splitmix32(x);
      x = next;
      this.s[i] = z;
    }
  }

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 bits. */
  nextFloat(): number {
    return (this.nextU32() >>> 8) / TWO_24;
  }

  /** n standard normals: Box-Muller in float64, rounded to float32, both values of a pair used. */
  normal(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = ((this.nextU32() >>> 8) + 1) / TWO_24; // (0, 1]: log never sees 0
      const u2 = (this.nextU32() >>> 8) / TWO_24;
      const r = Math.sqrt(-2.0 * Math.log(u1));
      out[i] = r * Math.cos(2.0 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2.0 * Math.PI * u2);
    }
    return out;
  }

  /** Uniform integer in [0, n), Lemire's multiply (bias < n / 2^32), as the Python does. */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError(`below(n) needs 1 <= n < 2^32, got ${n}`);
    return mulHigh32(this.nextU32(), n);
  }

  /** m distinct indices of [0, n), ascending (partial Fisher-Yates). */
  sampleIndices(n: number, m: number): number[] {
    if (m < 0 || m > n) throw new RangeError(`sampleIndices needs 0 <= m <= n, got n=${n} m=${m}`);
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < m; i++) {
      const j = i + this.below(n - i);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a.slice(0, m).sort((x, y) => x - y);
  }
}
