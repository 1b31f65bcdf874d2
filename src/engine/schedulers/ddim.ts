/**
 * DDIM with eta = 0 (deterministic), diffusers' DDIMScheduler formulas:
 *   x0   = (x - sqrt(1 - a_t) eps) / sqrt(a_t)            (epsilon)
 *        = sqrt(a_t) x - sqrt(1 - a_t) v                   (v_prediction)
 *   prev = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps
 * with prev timestep t - T // N (diffusers' rule, even when N does not divide T) and
 * a_prev = 1 (set_alpha_to_one) or alphas_cumprod[0] below timestep 0.
 */
import { Float32Tensor } from '../tensor';
import { alphasCumprod, arange, linspace, roundHalfEven } from './noise-schedule';
import { Scheduler, SchedulerStep, checkStepIndex, sameShape } from './scheduler';
import type { SchedulerConfig } from './scheduler-config';

export function ddimTimesteps(c: SchedulerConfig, n: number): number[] {
  const T = c.numTrainTimesteps;
  switch (c.timestepSpacing) {
    case 'linspace':
      return Array.from(linspace(0, T - 1, n), roundHalfEven).reverse();
    case 'leading': {
      const ratio = Math.floor(T / n);
      return Array.from({ length: n }, (_, i) => roundHalfEven(i * ratio)).reverse().map((t) => t + c.stepsOffset);
    }
    case 'trailing':
      return arange(T, 0, -T / n).map((t) => roundHalfEven(t) - 1);
  }
}

export class DdimScheduler implements Scheduler {
  readonly name = 'ddim';
  readonly stochastic = false;
  readonly initNoiseSigma = 1.0;
  private readonly acp: Float64Array;
  private readonly finalAlphaCumprod: number;
  private steps = 0;
  timesteps: number[] = [];

  constructor(private readonly config: SchedulerConfig) {
    this.acp = alphasCumprod(config);
    this.finalAlphaCumprod = config.setAlphaToOne ? 1.0 : this.acp[0]!;
  }

  setTimesteps(steps: number): void {
    if (!Number.isInteger(steps) || steps < 1 || steps > this.config.numTrainTimesteps) {
      throw new RangeError(`ddim: steps must be an integer in 1..${this.config.numTrainTimesteps}, got ${steps}`);
    }
    this.steps = steps;
    this.timesteps = ddimTimesteps(this.config, steps);
  }

  scaleModelInput(sample: Float32Tensor, stepIndex: number): Float32Tensor {
    checkStepIndex(this.name, stepIndex, this.timesteps.length);
    return sample;
  }

  step(modelOutput: Float32Tensor, stepIndex: number, sample: Float32Tensor): SchedulerStep {
    checkStepIndex(this.name, stepIndex, this.timesteps.length);
    sameShape(modelOutput, sample, this.name);
    const c = this.config;
    const t = this.timesteps[stepIndex]!;
    const prevT = t - Math.floor(c.numTrainTimesteps / this.steps);
    const aT = this.acp[t]!;
    const aPrev = prevT >= 0 ? this.acp[prevT]! : this.finalAlphaCumprod;
    const sqA = Math.sqrt(aT);
    const sqB = Math.sqrt(1 - aT);
    const sqAPrev = Math.sqrt(aPrev);
    const dir = Math.sqrt(1 - aPrev);
    const r = c.clipSampleRange;
    const x = sample.data;
    const m = modelOutput.data;
    const out = new Float32Array(x.length);
    const predX0 = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      let x0: number;
      let eps: number;
      if (c.predictionType === 'epsilon') {
        x0 = (x[k]! - sqB * m[k]!) / sqA;
        eps = m[k]!;
      } else {
        x0 = sqA * x[k]! - sqB * m[k]!;
        eps = sqA * m[k]! + sqB * x[k]!;
      }
      if (c.clipSample) x0 = Math.min(Math.max(x0, -r), r);
      predX0[k] = x0;
      out[k] = sqAPrev * x0 + dir * eps;
    }
    return {
      prevSample: { type: 'float32', dims: [...sample.dims], data: out },
      predOriginalSample: { type: 'float32', dims: [...sample.dims], data: predX0 },
    };
  }
}
