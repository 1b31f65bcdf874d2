/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * The TypeScript engine against the PyTorch reference sampler (models/story-world/reference.py)
 * on the committed story-world pack: same prompts, seeds and settings -> the same pictures
 * within 1e-3 on [-1, 1]: without CSA; a bank built both ways (identity frames written jointly,
 * or the first alone), which is a reference bank of the identity frames, and a frame reading
 * it; and a bank from given pictures (the reference set's) read by a frame.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoryEngine, GenerationSettings } from '../../src/engine/story-engine';
import { Rng } from '../../src/engine/random';
import { makeCsaPlan } from '../../src/engine/story/csa-plan';
import { encodeBatch, loadTokenizer } from '../../src/engine/tokenizer';
import { float32 } from '../../src/engine/tensor';

const ROOT = join(__dirname, '../..');
const PACK = join(ROOT, 'models/packs/story-world');

interface Arr { dims: number[]; data: number[] }
interface Plan { indices: Array<Record<string, number[][]>>; apply: Array<Record<string, boolean>> }
interface BuildCase { identity_images: Arr; read_images: Arr; bank_last_step: Record<string, Arr> }
interface Fixture {
  steps: number;
  guidance: number;
  timesteps: number[];
  csa_layers: string[];
  layer_tokens: Record<string, number>;
  apply_probability: { first_step: number; before_step_20: number; after: number };
  tokens: Record<string, number[]>;
  noise: Record<string, Arr>;
  cases: [
    { name: 'plain'; prompts: string[]; seeds: number[]; images: Arr },
    {
      name: 'csa'; rate: number; reference_noise: number; plan: Plan;
      identity: { prompts: string[]; seeds: number[]; csa_seed: number };
      read: { prompts: string[]; seeds: number[]; images_without_csa: Arr };
      joint: BuildCase;
      first: BuildCase;
      reference: { pictures: Arr; prompts: string[]; read_images: Arr };
    },
  ];
}

const fx: Fixture = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/story-world/reference.json'), 'utf8'));
const settings: GenerationSettings = { scheduler: 'ddim', steps: fx.steps, guidance: fx.guidance };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function concat(parts: { data: Float32Array }[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return out;
}

let engine: StoryEngine;

beforeAll(async () => {
  engine = await StoryEngine.open(PACK, { runtime: { intraOpThreads: 2, interOpThreads: 1 } });
});

afterAll(async () => {
  await engine?.dispose();
});

describe('inputs derived from seeds and prompts', () => {
  it('tokenizes prompts as the Python world does', async () => {
    const m = engine.manifest;
    const tok = await loadTokenizer(join(PACK, m.files.tokenizer), { kind: m.text.tokenizer, maxLength: m.text.maxLength });
    for (const [text, ids] of Object.entries(fx.tokens)) {
      expect(Array.from(encodeBatch(tok, [text]).data, Number)).toEqual(ids);
    }
  });

  it('draws the same initial noise from each seed', () => {
    for (const [seed, noise] of Object.entries(fx.noise)) {
      const ours = new Rng(Number(seed)).normal(noise.data.length);
      expect(maxAbsDiff(ours, noise.data)).toBeLessThan(1e-6);
    }
  });

  it('draws the same CSA plan (shared tokens, apply coins) from a seed', () => {
    const csa = fx.cases[1];
    expect(engine.csaLayers.map((l) => l.name)).toEqual(fx.csa_layers);
    const rates = new Map(engine.csaLayers.map((l) => [l.tokens, csa.rate]));
    const a = fx.apply_probability;
    // The fixture was drawn with the pack's schedule, which the engine reads from the manifest.
    expect(engine.manifest.csa!.applyProbability).toEqual({ firstStep: a.first_step, beforeStep20: a.before_step_20, after: a.after });
    const plan = makeCsaPlan({ seed: csa.identity.csa_seed, steps: fx.steps, layers: engine.csaLayers, rates, identityFrames: csa.identity.prompts.length,
      schedule: { firstStep: a.first_step, beforeStep20: a.before_step_20, after: a.after } });
    plan.indices.forEach((byCount, s) => {
      for (const [n, frames] of byCount) expect(frames).toEqual(csa.plan.indices[s]![String(n)] ?? []);
    });
    plan.apply.forEach((row, s) => expect(row).toEqual(fx.csa_layers.map((l) => csa.plan.apply[s]![l])));
  });
});

describe('pictures', () => {
  it('matches PyTorch without CSA', async () => {
    const c = fx.cases[0];
    const { pixels } = await engine.render(c.prompts.map((prompt, i) => ({ prompt, negativePrompt: '', seed: c.seeds[i]!, banks: [] })), settings);
    expect(maxAbsDiff(concat(pixels), c.images.data)).toBeLessThan(1e-3);
  });

  it.each(['joint', 'first'] as const)('matches PyTorch building a bank (%s identity frames, then their reference bank) and reading it', async (write) => {
    const c = fx.cases[1];
    const expected = c[write];
    const built = await engine.buildBank({ prompts: c.identity.prompts, negativePrompt: '', seeds: c.identity.seeds, rate: c.rate,
      csaSeed: c.identity.csa_seed, write, referenceNoise: c.reference_noise }, settings);
    expect(maxAbsDiff(built.pixels.data, expected.identity_images.data)).toBeLessThan(1e-3);
    expect(built.bank.header.references).toEqual({ referenceNoise: c.reference_noise });
    // The bank's tokens of the last step, first CSA layer: written from the identity frames.
    const [layer, tokens] = Object.entries(expected.bank_last_step)[0]!;
    const li = built.bank.header.layers.findIndex((l) => l.name === layer);
    expect(maxAbsDiff(built.bank.tokens(fx.steps - 1, li), tokens.data)).toBeLessThan(1e-3);
    const read = await engine.render([{ prompt: c.read.prompts[0]!, negativePrompt: '', seed: c.read.seeds[0]!, banks: [built.bank] }], settings);
    expect(maxAbsDiff(read.pixels[0]!.data, expected.read_images.data)).toBeLessThan(1e-3);
    // Reading the bank changed the picture: the comparison above is not trivially plain attention.
    expect(maxAbsDiff(expected.read_images.data, c.read.images_without_csa.data)).toBeGreaterThan(1e-2);
  });

  it('matches PyTorch reading a bank written from given pictures', async () => {
    const c = fx.cases[1];
    const r = c.reference;
    const bank = await engine.referenceBank({ pictures: float32(r.pictures.dims, Float32Array.from(r.pictures.data)), prompts: r.prompts,
      negativePrompt: '', rate: c.rate, csaSeed: c.identity.csa_seed, referenceNoise: c.reference_noise }, settings);
    expect(bank.header.identityFrames).toBe(r.pictures.dims[0]);
    const read = await engine.render([{ prompt: c.read.prompts[0]!, negativePrompt: '', seed: c.read.seeds[0]!, banks: [bank] }], settings);
    expect(maxAbsDiff(read.pixels[0]!.data, r.read_images.data)).toBeLessThan(1e-3);
    expect(maxAbsDiff(r.read_images.data, c.read.images_without_csa.data)).toBeGreaterThan(1e-2);
  });

  it('refuses reference pictures of the wrong shape or without one prompt each', async () => {
    const c = fx.cases[1];
    const base = { negativePrompt: '', rate: c.rate, csaSeed: 1 };
    await expect(engine.referenceBank({ ...base, pictures: float32([1, 3, 16, 16]), prompts: ['a person'] }, settings)).rejects.toThrow(/must be \[R, 3, 32, 32\]/);
    await expect(engine.referenceBank({ ...base, pictures: float32([2, 3, 32, 32]), prompts: ['a person'] }, settings)).rejects.toThrow(/need 2 prompts/);
    await expect(engine.referenceBank({ ...base, pictures: float32([1, 3, 32, 32]), prompts: ['a person'], referenceNoise: 1.5 }, settings)).rejects.toThrow(/\[0, 1\]/);
  });

  it('renders a frame the same alone and in a batch', async () => {
    const frames = [
      { prompt: 'a person waving at night', negativePrompt: '', seed: 7, banks: [] },
      { prompt: 'a person sitting in the city', negativePrompt: '', seed: 8, banks: [] },
    ];
    const both = await engine.render(frames, settings);
    const alone = await engine.render([frames[1]!], settings);
    expect(maxAbsDiff(both.pixels[1]!.data, alone.pixels[0]!.data)).toBeLessThan(1e-5);
  });
});
