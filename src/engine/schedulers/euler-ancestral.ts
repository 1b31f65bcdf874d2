/**
 * Euler ancestral, diffusers' EulerAncestralDiscreteScheduler formulas. Works in sigma space:
 * the UNet sees x / sqrt(sigma^2 + 1); each step goes down to sigma_down deterministically and
 * adds fresh noise of size sigma_up from the seeded generator (this is what makes it
 * "ancestral", and why it needs the rng).
 */
import type { Rng } from '../random';
import { Float32Tensor } from '../tensor';
import { alphasCumprod, arange, interpIndex, linspace, roundHalfEven, trainSigmas } from './noise-schedule';
import { Scheduler, SchedulerStep, checkStepIndex, sameShape } from './scheduler';
import type { SchedulerConfig } from './scheduler-config';

/** Euler's float timesteps (float32, as diffusers makes them). */
export function eulerTimesteps(c: SchedulerConfig, n: number): number[] {
  const T = c.numTrainTimesteps;
  switch (c.timestepSpacing) {
    case 'linspace':
      return Array.from(linspace(0, T - 1, n), Math.fround).reverse();
    case 'leading': {
      const ratio = Math.floor(T / n);
      return Array.from({ length: n }, (_, i) => roundHalfEven(i * ratio)).reverse().map((t) => Math.fround(t + c.stepsOffset));
    }
    case 'trailing':
      return arange(T, 0, -T / n).map((t) => Math.fround(roundHalfEven(t) - 1));
  }
}

/** Fills `out` with standard normals: one stream for all, or one per batch row. */
export function fillNoise(out: Float32Array, rows: number, rng: Rng | Rng[]): void {
  if (!Array.isArray(rng)) {
    out.set(rng.normal(out.length));
    return;
  }
  if (rng.length !== rows) throw new RangeError(`noise: ${rng.length} generators for a batch of ${rows}`);
  const per = out.length / rows;
  rng.forEach((r, b) => out.set(r.normal(per), b * per));
}

export class EulerAncestralScheduler implements Scheduler {
  readonly name = 'euler_ancestral';
  readonly stochastic = true;
  private readonly acp: Float64Array;
  timesteps: number[] = [];
  private sigmas: number[] = [];
  initNoiseSigma = 1.0;

  constructor(private readonly config: SchedulerConfig) {
    this.acp = alphasCumprod(config);
  }

  setTimesteps(steps: number): void {
    if (!Number.isInteger(steps) || steps < 1 || steps > this.config.numTrainTimesteps) {
      throw new RangeError(`euler_ancestral: steps must be an integer in 1..${this.config.numTrainTimesteps}, got ${steps}`);
    }
    this.timesteps = eulerTimesteps(this.config, steps);
    const train = trainSigmas(this.acp);
    // diffusers casts the sigma table to float32.
    this.sigmas = [...this.timesteps.map((t) => Math.fround(interpIndex(t, train))), 0];
    const max = Math.max(...this.sigmas);
    this.initNoiseSigma = this.config.timestepSpacing === 'leading' ? Math.sqrt(max * max + 1) : max;
  }

  scaleModelInput(sample: Float32Tensor, stepIndex: number): Float32Tensor {
    checkStepIndex(this.name, stepIndex, this.timesteps.length);
    const s = this.sigmas[stepIndex]!;
    const k = Math.sqrt(s * s + 1);
    return { type: 'float32', dims: [...sample.dims], data: sample.data.map((v) => v / k) };
  }

  step(modelOutput: Float32Tensor, stepIndex: number, sample: Float32Tensor, rng?: Rng | Rng[]): SchedulerStep {
    checkStepIndex(this.name, stepIndex, this.timesteps.length);
    sameShape(modelOutput, sample, this.name);
    if (rng === undefined) throw new Error('euler_ancestral: step needs the seeded generator for its noise');
    const s = this.sigmas[stepIndex]!;
    const sTo = this.sigmas[stepIndex + 1]!;
    const sUp = Math.sqrt((sTo * sTo * (s * s - sTo * sTo)) / (s * s));
    const sDown = Math.sqrt(sTo * sTo - sUp * sUp);
    const dt = sDown - s;
    const vOut = -s / Math.sqrt(s * s + 1);
    const vIn = 1 / (s * s + 1);
    const eps = this.config.predictionType === 'epsilon';
    const noise = new Float32Array(sample.data.length);
    fillNoise(noise, sample.dims[0] ?? 1, rng);
    const x = sample.data;
    const m = modelOutput.data;
    const out = new Float32Array(x.length);
    const predX0 = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const x0 = eps ? x[k]! - s * m[k]! : m[k]! * vOut + x[k]! * vIn;
      predX0[k] = x0;
      const d = (x[k]! - x0) / s;
      out[k] = x[k]! + d * dt + noise[k]! * sUp;
    }
    return {
      prevSample: { type: 'float32', dims: [...sample.dims], data: out },
      predOriginalSample: { type: 'float32', dims: [...sample.dims], data: predX0 },
    };
  }
}
