/**
 * The one contract every sampler implements (diffusers' shape): set the timesteps for N
 * steps, scale the model input, step. A pipeline loops over `timesteps` by index and never
 * asks which scheduler it has.
 */
import type { Rng } from '../random';
import type { Float32Tensor } from '../tensor';

/**
 * The one scheduler vocabulary: packs, the CLI, the API enum and stored jobs all use these
 * names, so a name means the same sampler everywhere and needs no mapping at a boundary.
 */
export const SCHEDULER_NAMES = ['ddim', 'euler_ancestral', 'dpmpp_2m'] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** diffusers' SchedulerOutput: the next sample, and the clean sample the model output implies. */
export interface SchedulerStep {
  /** The sample for step i + 1 (diffusers' prev_sample). */
  prevSample: Float32Tensor;
  /** x0 as predicted at step i (diffusers' pred_original_sample): previews and x0-space losses need it. */
  predOriginalSample: Float32Tensor;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /** Timesteps fed to the UNet, in sampling order (floats for Euler's interpolated ones). */
  readonly timesteps: readonly number[];
  /** Standard deviation of the initial noise: the seeded normals are multiplied by it. */
  readonly initNoiseSigma: number;
  /** Whether `step` consumes noise from the generator (ancestral samplers). */
  readonly stochastic: boolean;
  setTimesteps(steps: number): void;
  /** What the UNet sees at step i. */
  scaleModelInput(sample: Float32Tensor, stepIndex: number): Float32Tensor;
  /**
   * One denoising step: the sample at step i and the model output for it -> the sample for
   * step i + 1 and the predicted x0. Steps must be taken in order (multistep solvers remember earlier outputs).
   * `rng` is needed when `stochastic`: one generator for the whole tensor, or one per batch
   * row so that a frame's noise does not depend on what else is in its batch.
   */
  step(modelOutput: Float32Tensor, stepIndex: number, sample: Float32Tensor, rng?: Rng | Rng[]): SchedulerStep;
}

export function sameShape(a: Float32Tensor, b: Float32Tensor, what: string): void {
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
    throw new RangeError(`${what}: model output [${a.dims.join(', ')}] and sample [${b.dims.join(', ')}] differ in shape`);
  }
}

export function checkStepIndex(name: string, i: number, count: number): void {
  if (count === 0) throw new Error(`${name}: call setTimesteps before stepping`);
  if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`${name}: step index ${i} outside 0..${count - 1}`);
}
