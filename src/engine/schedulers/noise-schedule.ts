/**
 * The pieces every scheduler shares: the training noise schedule and numpy's spacing
 * helpers, reproduced exactly (round half to even, arange and linspace as numpy computes
 * them), because diffusers builds its timesteps with numpy and an off-by-one timestep changes
 * every image.
 *
 * alphas_cumprod is kept in float64: diffusers stores float32 tensors, the story-world
 * reference sampler float64; the two differ below 1e-6 relative.
 */
import type { SchedulerConfig } from './scheduler-config';

export function alphasCumprod(c: SchedulerConfig): Float64Array {
  const T = c.numTrainTimesteps;
  const betas = c.betaSchedule === 'linear'
    ? linspace(c.betaStart, c.betaEnd, T)
    : linspace(Math.sqrt(c.betaStart), Math.sqrt(c.betaEnd), T).map((b) => b * b);
  const out = new Float64Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) {
    prod *= 1 - betas[i]!;
    out[i] = prod;
  }
  return out;
}

/** numpy.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.linspace(start, stop, num) in float64 (endpoint included, last value exact). */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/** numpy.arange(start, stop, step) for floats: numpy fills start + i * ((start + step) - start). */
export function arange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length: n }, (_, i) => start + i * delta);
}

/** numpy.interp(x, [0, 1, ..., n-1], fp) for x inside the range. */
export function interpIndex(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  const slope = (fp[j + 1]! - fp[j]!) / 1;
  return slope * (x - j) + fp[j]!;
}

/** sqrt((1 - acp) / acp) per training timestep: the "sigma" of the Karras-style samplers. */
export function trainSigmas(acp: Float64Array): Float64Array {
  return acp.map((a) => Math.sqrt((1 - a) / a));
}
