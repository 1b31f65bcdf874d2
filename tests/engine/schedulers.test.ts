import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/engine/random';
import { createScheduler, parseSchedulerConfig, PredictionType, SCHEDULER_NAMES, SchedulerConfig } from '../../src/engine/schedulers';
import { alphasCumprod, interpIndex, trainSigmas } from '../../src/engine/schedulers/noise-schedule';
import { Float32Tensor, float32 } from '../../src/engine/tensor';

interface Step { scaled: number[]; model_output: number[]; prev: number[] }
interface Case {
  scheduler: string;
  label: string;
  config: Record<string, unknown>;
  steps: number;
  shape: number[];
  noise_seed: number;
  timesteps: number[];
  init_noise_sigma: number;
  sample: number[];
  trace: Step[];
}

// Recorded by tests/fixtures/engine/make_schedulers.py, a numpy port of diffusers' schedulers.
const golden = JSON.parse(readFileSync(join(__dirname, '../fixtures/engine/schedulers.json'), 'utf8')) as { cases: Case[] };

/** max |a - b| relative to the largest |b| of the tensor (and at least 1e-6 relative of 1). */
function relErr(a: Float32Array, b: readonly number[]): number {
  let diff = 0;
  let scale = 1;
  b.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(a[i]! - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return diff / scale;
}

const STORY = parseSchedulerConfig({
  num_train_timesteps: 1000, beta_start: 1e-4, beta_end: 0.02, beta_schedule: 'linear', prediction_type: 'epsilon',
  timestep_spacing: 'trailing', steps_offset: 0, set_alpha_to_one: true, clip_sample: false,
});

describe('schedulers against recorded diffusers formulas', () => {
  it.each(golden.cases.map((c) => [`${c.scheduler}: ${c.label}`, c] as const))('%s', (_label, c) => {
    const s = createScheduler(c.scheduler, parseSchedulerConfig(c.config));
    s.setTimesteps(c.steps);
    expect(s.timesteps).toEqual(c.timesteps);
    expect(s.initNoiseSigma).toBeCloseTo(c.init_noise_sigma, 5);
    const rng = new Rng(c.noise_seed);
    let x: Float32Tensor = float32(c.shape, c.sample);
    c.trace.forEach((step, i) => {
      const scaled = s.scaleModelInput(x, i);
      expect(relErr(scaled.data, step.scaled)).toBeLessThanOrEqual(1e-6);
      // Feed the recorded model output (not ours) so each step is checked on its own.
      x = s.step(float32(c.shape, step.model_output), i, float32(c.shape, Array.from(x.data)), rng).prevSample;
      expect(x.dims).toEqual(c.shape);
      expect(relErr(x.data, step.prev)).toBeLessThanOrEqual(1e-6);
    });
  });
});

describe('predicted x0', () => {
  const configs: Array<[PredictionType, SchedulerConfig]> = [
    ['epsilon', STORY],
    ['v_prediction', { ...STORY, predictionType: 'v_prediction', betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, timestepSpacing: 'leading', stepsOffset: 1 }],
  ];
  const cases = SCHEDULER_NAMES.flatMap((name) => configs.map(([type, config]) => [name, type, config] as const));

  // A sample made from a known x0 and noise, with the model output that noise implies (the
  // exact epsilon, or v = alpha * noise - sigma * x0): a perfect model, so x0 must come back.
  it.each(cases)('%s (%s) recovers x0 from the exact model output at every step', (name, type, config) => {
    const s = createScheduler(name, config);
    s.setTimesteps(6);
    const shape = [2, 3, 4, 4];
    const x0 = new Rng(1).normal(2 * 3 * 4 * 4).map((v) => Math.tanh(v));
    const acp = alphasCumprod(config);
    const trainSigma = trainSigmas(acp);
    const rng = [new Rng(2), new Rng(3)];
    // Euler works in sigma space (x = x0 + sigma * noise), the others in alpha space.
    const sigmaSpace = name === 'euler_ancestral';
    s.timesteps.forEach((t, i) => {
      const sigma = interpIndex(t, trainSigma);
      const alpha = 1 / Math.sqrt(sigma * sigma + 1);
      const noise = new Rng(100 + i).normal(x0.length);
      const sample = x0.map((v, k) => (sigmaSpace ? v + sigma * noise[k]! : alpha * v + sigma * alpha * noise[k]!));
      const output = type === 'epsilon' ? noise : noise.map((n, k) => alpha * n - sigma * alpha * x0[k]!);
      const { predOriginalSample: got, prevSample } = s.step(float32(shape, output), i, float32(shape, sample), rng);
      expect(got.dims).toEqual(shape);
      expect(prevSample.dims).toEqual(shape);
      let err = 0;
      got.data.forEach((v, k) => { err = Math.max(err, Math.abs(v - x0[k]!)); });
      expect(err).toBeLessThan(1e-3);
    });
  });
});

describe('scheduler contract', () => {
  it('matches the story-world reference sampler timesteps (trailing)', () => {
    const s = createScheduler('ddim', STORY);
    s.setTimesteps(25);
    // models/story-world/sampler.py ddim_timesteps: round(T - i*T/steps) - 1
    expect(s.timesteps).toEqual(Array.from({ length: 25 }, (_, i) => Math.round(1000 - (i * 1000) / 25) - 1));
  });

  it('draws Euler noise per batch row when given one generator per row', () => {
    const s = createScheduler('euler_ancestral', STORY);
    s.setTimesteps(4);
    const x = float32([2, 3], [1, 2, 3, 4, 5, 6]);
    const out = float32([2, 3], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const both = s.step(out, 0, x, [new Rng(1), new Rng(2)]);
    const alone = s.step(float32([1, 3], [0.4, 0.5, 0.6]), 0, float32([1, 3], [4, 5, 6]), [new Rng(2)]);
    expect(both.prevSample.data.slice(3)).toEqual(alone.prevSample.data);
    expect(() => s.step(out, 0, x)).toThrow(/needs the seeded generator/);
    expect(() => s.step(out, 0, x, [new Rng(1)])).toThrow(/1 generators for a batch of 2/);
  });

  it('refuses DPM-Solver steps out of order and shape mismatches', () => {
    const s = createScheduler('dpmpp_2m', STORY);
    s.setTimesteps(5);
    const x = float32([1, 2], [0.5, -0.5]);
    expect(() => s.step(x, 1, x)).toThrow(/out of order/);
    expect(() => s.step(float32([2, 1], [0, 0]), 0, x)).toThrow(/differ in shape/);
    expect(() => s.step(x, 7, x)).toThrow(/outside 0..4/);
  });

  it('rejects unknown schedulers and incomplete or invalid configs with clear messages', () => {
    expect(() => createScheduler('pndm', STORY)).toThrow(`unknown scheduler "pndm"; known: ${SCHEDULER_NAMES.join(', ')}`);
    const raw = { num_train_timesteps: 1000, beta_start: 1e-4, beta_end: 0.02, beta_schedule: 'linear', prediction_type: 'epsilon',
      timestep_spacing: 'trailing', steps_offset: 0, set_alpha_to_one: true, clip_sample: false };
    const { set_alpha_to_one: _drop, ...missing } = raw;
    expect(() => parseSchedulerConfig(missing)).toThrow('scheduler.set_alpha_to_one must be true or false, got undefined');
    expect(() => parseSchedulerConfig({ ...raw, timestep_spacing: 'karras' })).toThrow(/timestep_spacing must be one of linspace, leading, trailing/);
    expect(() => parseSchedulerConfig({ ...raw, prediction_type: 'sample' })).toThrow(/prediction_type/);
    // 0 is a real value, not "unset": steps_offset 0 stays 0.
    expect(parseSchedulerConfig(raw).stepsOffset).toBe(0);
    expect(() => createScheduler('ddim', STORY).setTimesteps(0)).toThrow(/steps must be an integer/);
  });
});
