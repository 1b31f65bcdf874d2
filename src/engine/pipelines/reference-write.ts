/**
 * Writing a bank from finished pictures (a reference bank). At every step s of the sampler
 * (timestep t_s) each clean picture is noised with seeded noise to fraction * t_s and run
 * through the UNet once, with plain attention; the CSA phase (a store-only identity write)
 * keeps the sampled tokens. Frames that read the bank then see tokens of the character as it
 * really looks at a little less noise than their own, which is what the model was trained to
 * copy from (models/story-world/csa_train.py); the identity phase's shared tokens are only
 * as settled as the frames being drawn.
 *
 * The noise is drawn from one generator, R pictures' worth per step, in order, and mixed in
 * float64 as the PyTorch reference (sampler.reference_bank) does.
 *
 * Both guidance halves are run whatever the guidance: nothing is guided here, but the bank
 * keeps tokens for each half, and a bank is read by renders at any guidance.
 */
import { Rng } from '../random';
import type { ModelSession } from '../runtime';
import { BOTH_HALVES, CsaPhase } from '../story/csa-phases';
import { Float32Tensor, Tensor, float32 } from '../tensor';
import { noiseOutput, timestepFeed } from './denoise';

export interface ReferenceWriteRequest {
  /** [2R, ...] rows, unconditional then conditional, as for denoise. */
  conditioning: Readonly<Record<string, Tensor>>;
  /** The clean pictures (latents for latent packs), [R, C, H, W]. */
  latents: Float32Tensor;
  noiseSeed: number;
  /** Share of each step's timestep the pictures are noised to, in [0, 1]. */
  fraction: number;
  /** The sampler's timesteps, in sampling order. */
  timesteps: readonly number[];
  /** The training schedule's alphas_cumprod. */
  alphasCumprod: Float64Array;
  csa: CsaPhase;
  onStep?: (done: number, total: number) => void;
}

/** alphas_cumprod at a fractional timestep, linearly interpolated (as the story-world UNet does). */
export function alphaAt(acp: Float64Array, t: number): number {
  const last = acp.length - 1;
  const lo = Math.min(Math.floor(t), last);
  const hi = Math.min(lo + 1, last);
  const w = t - Math.floor(t);
  return acp[lo]! * (1 - w) + acp[hi]! * w;
}

export async function writeReferences(unet: ModelSession, r: ReferenceWriteRequest): Promise<void> {
  if (!(r.fraction >= 0 && r.fraction <= 1)) throw new RangeError(`reference noise fraction must be in [0, 1], got ${r.fraction}`);
  const R = r.latents.dims[0]!;
  for (const [name, t] of Object.entries(r.conditioning)) {
    if (t.dims[0] !== 2 * R) throw new RangeError(`${name} has ${t.dims[0]} rows for ${R} references; expected ${2 * R}`);
  }
  const x0 = r.latents.data;
  const rng = new Rng(r.noiseSeed);
  const out = noiseOutput(unet);
  // A UNet that takes integer timesteps is noised to the timestep it is told.
  const integer = unet.input('timestep')?.type === 'int64';
  for (let s = 0; s < r.timesteps.length; s++) {
    const t = integer ? Math.round(r.fraction * r.timesteps[s]!) : r.fraction * r.timesteps[s]!;
    const a = alphaAt(r.alphasCumprod, t);
    const sa = Math.sqrt(a);
    const sn = Math.sqrt(1 - a);
    const noise = rng.normal(x0.length);
    const sample = float32([2 * R, ...r.latents.dims.slice(1)]);
    for (let i = 0; i < x0.length; i++) sample.data[i] = sa * x0[i]! + sn * noise[i]!;
    sample.data.copyWithin(x0.length, 0, x0.length);
    const result = await unet.run(
      { sample, timestep: timestepFeed(unet, t, 2 * R), ...r.conditioning, ...r.csa.feeds(s, R, BOTH_HALVES) },
      { outputs: [out, ...r.csa.outputs(s)] },
    );
    r.csa.collect(s, result);
    r.onStep?.(s + 1, r.timesteps.length);
  }
}
