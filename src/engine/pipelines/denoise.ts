/**
 * The denoising loop: seeded noise, classifier-free guidance, the scheduler, and whatever
 * conditioning feeds and CSA phase the caller hands in. One readable loop; the conditioning
 * strategy decides which inputs carry the prompts (SDXL adds text_embeds and time_ids), the
 * phase strategy what the CSA inputs carry; the loop never asks which family or phase it runs.
 */
import { Rng } from '../random';
import type { ModelSession } from '../runtime';
import type { Scheduler } from '../schedulers';
import { BOTH_HALVES, COND_HALF, CsaPhase } from '../story/csa-phases';
import { Float32Tensor, Tensor, float32, int64 } from '../tensor';

export interface SampleShape {
  channels: number;
  height: number;
  width: number;
}

export interface DenoiseRequest {
  /**
   * The UNet inputs that carry the prompts (encoder_hidden_states [2F, L, C]; SDXL adds
   * text_embeds and time_ids), each with 2F rows: the F unconditional ones, then the F
   * conditional ones. Fed unchanged at every step (only the conditional rows when
   * `guidance` <= 1).
   */
  conditioning: Readonly<Record<string, Tensor>>;
  /** One seed per frame: its initial noise and, for ancestral schedulers, its step noise. */
  seeds: readonly number[];
  shape: SampleShape;
  /** A fresh scheduler with its timesteps set. */
  scheduler: Scheduler;
  /** Classifier-free guidance scale; <= 1 means none (see `guides`). */
  guidance: number;
  csa: CsaPhase;
  onStep?: (done: number, total: number) => void;
}

/** The seeded starting noise of one frame (before the scheduler's init sigma). */
export function initialNoise(rng: Rng, shape: SampleShape): Float32Array {
  return rng.normal(shape.channels * shape.height * shape.width);
}

function stack(rows: readonly Float32Array[], dims: number[]): Float32Tensor {
  const t = float32([rows.length, ...dims]);
  rows.forEach((r, i) => t.data.set(r, i * r.length));
  return t;
}

function doubled(x: Float32Tensor): Float32Tensor {
  const t = float32([x.dims[0]! * 2, ...x.dims.slice(1)]);
  t.data.set(x.data, 0);
  t.data.set(x.data, x.data.length);
  return t;
}

export function timestepFeed(unet: ModelSession, t: number, batch: number): Tensor {
  // SD exports often take int64 timesteps; ours takes float32 (Euler's are fractional).
  const type = unet.input('timestep')?.type ?? 'float32';
  if (type === 'int64') return int64([batch], new Array(batch).fill(BigInt(Math.round(t))));
  return float32([batch], new Array(batch).fill(t));
}

export function noiseOutput(unet: ModelSession): string {
  if (unet.output('out_sample')) return 'out_sample';
  const first = unet.outputs.find((o) => !o.name.endsWith('.csa_tokens'));
  if (!first) throw new Error(`${unet.label}: no noise prediction output`);
  return first.name;
}

/**
 * Whether the unconditional half is run at all (diffusers' do_classifier_free_guidance =
 * guidance_scale > 1). At 1 the guided prediction u + 1 * (c - u) is c itself, so the
 * unconditional half would be half the UNet work thrown away. Below 1, 0 included, diffusers
 * does not guide either and samples from c alone (not from u, as u + 0 * (c - u) would):
 * doing the same keeps a guidance value meaning the same thing here as there.
 */
export function guides(guidance: number): boolean {
  return guidance > 1;
}

/** Rows [from, from + count) of a batch tensor, copied (fed to the UNet at every step). */
function rows(t: Tensor, from: number, count: number): Tensor {
  const per = t.data.length / t.dims[0]!;
  const dims = [count, ...t.dims.slice(1)];
  const begin = from * per;
  const end = (from + count) * per;
  switch (t.type) {
    case 'float32': return { type: t.type, dims, data: t.data.slice(begin, end) };
    case 'float16': return { type: t.type, dims, data: t.data.slice(begin, end) };
    case 'int64': return { type: t.type, dims, data: t.data.slice(begin, end) };
    case 'int32': return { type: t.type, dims, data: t.data.slice(begin, end) };
  }
}

export async function denoise(unet: ModelSession, r: DenoiseRequest): Promise<Float32Tensor> {
  const F = r.seeds.length;
  for (const [name, t] of Object.entries(r.conditioning)) {
    if (t.dims[0] !== 2 * F) throw new RangeError(`${name} has ${t.dims[0]} rows for ${F} frames; expected ${2 * F} (uncond + cond)`);
  }
  const guided = guides(r.guidance);
  const halves = guided ? BOTH_HALVES : COND_HALF;
  const B = F * halves.length;
  const conditioning = guided ? r.conditioning : Object.fromEntries(Object.entries(r.conditioning).map(([name, t]) => [name, rows(t, F, F)]));
  const { channels, height, width } = r.shape;
  const rngs = r.seeds.map((s) => new Rng(s));
  let x = stack(rngs.map((g) => initialNoise(g, r.shape)), [channels, height, width]);
  const sigma = r.scheduler.initNoiseSigma;
  if (sigma !== 1) for (let i = 0; i < x.data.length; i++) x.data[i]! *= sigma;

  const out = noiseOutput(unet);
  const steps = r.scheduler.timesteps;
  const per = channels * height * width;
  for (let s = 0; s < steps.length; s++) {
    const scaled = r.scheduler.scaleModelInput(x, s);
    const result = await unet.run(
      {
        sample: guided ? doubled(scaled) : scaled,
        timestep: timestepFeed(unet, steps[s]!, B),
        ...conditioning,
        ...r.csa.feeds(s, F, halves),
      },
      { outputs: [out, ...r.csa.outputs(s)] },
    );
    r.csa.collect(s, result);
    const pred = result[out]!;
    if (pred.type !== 'float32') throw new Error(`${unet.label}: ${out} is ${pred.type}, expected float32`);
    let prediction = pred;
    if (guided) {
      prediction = float32([F, channels, height, width]);
      for (let i = 0; i < F * per; i++) {
        const u = pred.data[i]!;
        prediction.data[i] = u + r.guidance * (pred.data[F * per + i]! - u);
      }
    }
    x = r.scheduler.step(prediction, s, x, rngs).prevSample;
    r.onStep?.(s + 1, steps.length);
  }
  return x;
}
