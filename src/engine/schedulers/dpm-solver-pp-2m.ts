/**
 * DPM-Solver++ 2M: diffusers' DPMSolverMultistepScheduler with algorithm_type "dpmsolver++",
 * solver_order 2, solver_type "midpoint", lower_order_final, final_sigmas_type "zero".
 * It solves in data (x0) space and reuses the previous step's x0 prediction, so steps must
 * come in order; the first step and the last (to sigma 0) are first order (= DDIM).
 */
import { Float32Tensor } from '../tensor';
import { alphasCumprod, arange, interpIndex, linspace, roundHalfEven, trainSigmas } from './noise-schedule';
import { Scheduler, SchedulerStep, checkStepIndex, sameShape } from './scheduler';
import type { SchedulerConfig } from './scheduler-config';

export function dpmTimesteps(c: SchedulerConfig, n: number): number[] {
  const T = c.numTrainTimesteps; // lambda_min_clipped is -inf: the last timestep is T
  switch (c.timestepSpacing) {
    case 'linspace':
      return Array.from(linspace(0, T - 1, n + 1), roundHalfEven).reverse().slice(0, n);
    case 'leading': {
      const ratio = Math.floor(T / (n + 1));
      return Array.from({ length: n + 1 }, (_, i) => roundHalfEven(i * ratio)).reverse().slice(0, n).map((t) => t + c.stepsOffset);
    }
    case 'trailing':
      return arange(T, 0, -T / n).map((t) => roundHalfEven(t) - 1);
  }
}

function alphaSigma(sigma: number): [number, number] {
  const a = 1 / Math.sqrt(sigma * sigma + 1);
  return [a, sigma * a];
}

/** log(alpha) - log(sigma); +Infinity at sigma 0, which makes the last step land on x0. */
function lambda(a: number, s: number): number {
  return Math.log(a) - Math.log(s);
}

export class DpmSolverPP2MScheduler implements Scheduler {
  readonly name = 'dpmpp_2m';
  readonly stochastic = false;
  readonly initNoiseSigma = 1.0;
  private readonly acp: Float64Array;
  timesteps: number[] = [];
  private sigmas: number[] = [];
  private previousX0: Float32Array | null = null;
  private nextIndex = 0;

  constructor(private readonly config: SchedulerConfig) {
    this.acp = alphasCumprod(config);
  }

  setTimesteps(steps: number): void {
    if (!Number.isInteger(steps) || steps < 1 || steps > this.config.numTrainTimesteps) {
      throw new RangeError(`dpmpp_2m: steps must be an integer in 1..${this.config.numTrainTimesteps}, got ${steps}`);
    }
    this.timesteps = dpmTimesteps(this.config, steps);
    const train = trainSigmas(this.acp);
    this.sigmas = [...this.timesteps.map((t) => Math.fround(interpIndex(t, train))), 0];
    this.previousX0 = null;
    this.nextIndex = 0;
  }

  scaleModelInput(sample: Float32Tensor, stepIndex: number): Float32Tensor {
    checkStepIndex(this.name, stepIndex, this.timesteps.length);
    return sample;
  }

  step(modelOutput: Float32Tensor, stepIndex: number, sample: Float32Tensor): SchedulerStep {
    checkStepIndex(this.name, stepIndex, this.timesteps.length);
    sameShape(modelOutput, sample, this.name);
    if (stepIndex !== this.nextIndex) {
      throw new Error(`dpmpp_2m: step ${stepIndex} called out of order (expected ${this.nextIndex}); call setTimesteps to restart`);
    }
    const [aS0, sgS0] = alphaSigma(this.sigmas[stepIndex]!);
    const [aT, sgT] = alphaSigma(this.sigmas[stepIndex + 1]!);
    const x = sample.data;
    const m = modelOutput.data;
    // The data prediction, kept in float32 like diffusers' model_outputs list.
    const x0 = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      x0[k] = this.config.predictionType === 'epsilon' ? (x[k]! - sgS0 * m[k]!) / aS0 : aS0 * x[k]! - sgS0 * m[k]!;
    }
    const h = lambda(aT, sgT) - lambda(aS0, sgS0);
    const ratio = sgT / sgS0;
    const coef = aT * (Math.exp(-h) - 1.0);
    const last = stepIndex === this.timesteps.length - 1;
    const out = new Float32Array(x.length);
    const prev = this.previousX0;
    if (prev === null || last) {
      for (let k = 0; k < x.length; k++) out[k] = ratio * x[k]! - coef * x0[k]!;
    } else {
      const [aS1, sgS1] = alphaSigma(this.sigmas[stepIndex - 1]!);
      const r0 = (lambda(aS0, sgS0) - lambda(aS1, sgS1)) / h;
      for (let k = 0; k < x.length; k++) {
        const d1 = (1.0 / r0) * (x0[k]! - prev[k]!);
        out[k] = ratio * x[k]! - coef * x0[k]! - 0.5 * coef * d1;
      }
    }
    this.previousX0 = x0;
    this.nextIndex = stepIndex + 1;
    // The solver keeps x0 for the next step; the caller gets a copy it may change freely.
    return {
      prevSample: { type: 'float32', dims: [...sample.dims], data: out },
      predOriginalSample: { type: 'float32', dims: [...sample.dims], data: x0.slice() },
    };
  }
}
