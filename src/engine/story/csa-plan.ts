/**
 * Every random choice of one CSA run, drawn from a seed exactly as the PyTorch reference
 * (models/story-world/sampler.py, CSAPlan.make) draws them, so that a bank built here and
 * one built there hold the same tokens.
 *
 * Per step: for each token count (ascending), for each identity frame, the indices of the
 * tokens it shares; then, for each CSA layer (in graph order), whether CSA applies at this
 * call. Step 0 never applies; later steps apply with probability 0.7 before step 20 and 0.9
 * from then on (StoryDiffusion's schedule): the randomness keeps frames from copying the
 * layout of the identity frames.
 */
import { Rng } from '../random';

export interface ApplySchedule {
  firstStep: number;
  beforeStep20: number;
  after: number;
}

export const STORY_DIFFUSION_SCHEDULE: ApplySchedule = { firstStep: 0, beforeStep20: 0.7, after: 0.9 };

export interface CsaLayerInfo {
  name: string;
  /** Tokens per frame at this layer. */
  tokens: number;
}

export interface CsaPlanInput {
  seed: number;
  steps: number;
  layers: readonly CsaLayerInfo[];
  /** Sampling rate per token count; a count without a rate shares nothing. */
  rates: ReadonlyMap<number, number>;
  /** Frames whose tokens are shared (the identity frames); 0 for a read-only run. */
  identityFrames: number;
  schedule?: ApplySchedule;
}

export interface CsaPlan {
  steps: number;
  /** indices[step].get(tokenCount)[frame] = ascending token indices that frame shares. */
  indices: Array<Map<number, number[][]>>;
  /** apply[step][layerIndex] */
  apply: boolean[][];
}

/** How many of n tokens a rate shares; halves round up (the Python uses floor(x + 0.5) too). */
export function tokensAt(rate: number, n: number): number {
  return Math.floor(rate * n + 0.5);
}

export function applyProbability(step: number, s: ApplySchedule = STORY_DIFFUSION_SCHEDULE): number {
  if (step === 0) return s.firstStep;
  return step < 20 ? s.beforeStep20 : s.after;
}

export function makeCsaPlan(input: CsaPlanInput): CsaPlan {
  const rng = new Rng(input.seed);
  const counts = [...new Set(input.layers.map((l) => l.tokens))].sort((a, b) => a - b);
  const plan: CsaPlan = { steps: input.steps, indices: [], apply: [] };
  for (let s = 0; s < input.steps; s++) {
    const byCount = new Map<number, number[][]>();
    for (const n of counts) {
      const m = tokensAt(input.rates.get(n) ?? 0, n);
      const frames: number[][] = [];
      for (let f = 0; f < input.identityFrames; f++) frames.push(rng.sampleIndices(n, m));
      byCount.set(n, frames);
    }
    plan.indices.push(byCount);
    const p = applyProbability(s, input.schedule);
    plan.apply.push(input.layers.map(() => rng.nextFloat() < p));
  }
  return plan;
}
