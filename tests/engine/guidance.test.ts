/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * Guidance <= 1 runs the UNet on the conditional half alone. At guidance 1 the guided
 * prediction u + 1 * (c - u) is c, so the pictures must be those of the doubled batch: a
 * guidance just above 1 still runs the doubled batch and must land within float error of it,
 * on every pack family and through every CSA phase (plain, identity write, bank read).
 * Below 1, 0 included, diffusers does not guide either: the same pictures as at 1.
 */
import { join } from 'node:path';
import { ModelSession } from '../../src/engine/runtime';
import type { Tensor } from '../../src/engine/tensor';
import { GenerationSettings, StoryEngine } from '../../src/engine/story-engine';
import type { IdentityWriteMode } from '../../src/engine/pack';

const ROOT = join(__dirname, '../..');
// Several sessions per pack on two shared cores (see sd-packs-e2e.test.ts).
jest.setTimeout(300_000);

/** A step above 1 that still takes the doubled path: the result must not move. */
const JUST_ABOVE = 1.0000001;
/** On [-1, 1] pixels; the two paths differ by ~1e-6 (float32 rounding) on these packs. */
const TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function flat(pixels: readonly { data: Float32Array }[]): number[] {
  return pixels.flatMap((p) => Array.from(p.data));
}

describe.each([
  ['story-world', 'models/packs/story-world', ['joint', 'first'] as IdentityWriteMode[]],
  ['sd15-tiny', 'models/packs/sd15-tiny', ['joint'] as IdentityWriteMode[]],
  ['sdxl-tiny', 'models/packs/sdxl-tiny', ['joint'] as IdentityWriteMode[]],
])('guidance on the %s pack', (_name, dir, writes) => {
  let engine: StoryEngine;
  let settings: (guidance: number) => GenerationSettings;
  let unetRows: number[] = [];
  const frames = [
    { prompt: 'a girl with a blue hat in the city', negativePrompt: 'blurry', seed: 21, banks: [] },
    { prompt: 'a tree on a hill', negativePrompt: '', seed: 22, banks: [] },
  ];
  const recipe = { prompts: ['a girl with a blue hat reading', 'a girl with a blue hat walking'], negativePrompt: 'sketch', seeds: [11, 12], rate: 0.5, csaSeed: 3 };

  beforeAll(async () => {
    engine = await StoryEngine.open(join(ROOT, dir), { runtime: { intraOpThreads: 2, interOpThreads: 1 }, batchSize: 2 });
    // The pack's own scheduler: each family's default covers another sampler (ddim, dpmpp_2m, euler_ancestral).
    settings = (guidance) => ({ scheduler: engine.manifest.defaults.scheduler, steps: 3, guidance });
    const run = ModelSession.prototype.run;
    jest.spyOn(ModelSession.prototype, 'run').mockImplementation(function (this: ModelSession, feeds: Record<string, Tensor>, options) {
      if (this.label.startsWith('unet')) unetRows.push(feeds.sample!.dims[0]!);
      return run.call(this, feeds, options);
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await engine?.dispose();
  });
  beforeEach(() => {
    unetRows = [];
  });

  it('renders at guidance 1 from the conditional half alone, as the doubled batch does', async () => {
    const one = await engine.render(frames, settings(1));
    expect(unetRows).toEqual([2, 2, 2]);
    unetRows = [];
    const doubled = await engine.render(frames, settings(JUST_ABOVE));
    expect(unetRows).toEqual([4, 4, 4]);
    expect(maxAbsDiff(flat(one.pixels), flat(doubled.pixels))).toBeLessThan(TOLERANCE);
    // The tolerance means something: real guidance moves the pictures far more.
    const guided = await engine.render(frames, settings(engine.manifest.defaults.guidance));
    expect(maxAbsDiff(flat(one.pixels), flat(guided.pixels))).toBeGreaterThan(1e-2);
  });

  it.each(writes)('builds a bank (%s identity frames) and reads it at guidance 1 as the doubled batch does', async (write) => {
    const one = await engine.buildBank({ ...recipe, write }, settings(1));
    // UNet rows per step: the identity frames run unguided, one row each; the reference
    // bank is still written from both halves (2 rows a picture), since banks are read at any guidance.
    const runs = write === 'joint' ? [2, 4] : [1, 2, 1, 4];
    expect(unetRows).toEqual(runs.flatMap((rows) => [rows, rows, rows]));
    const doubled = await engine.buildBank({ ...recipe, write }, settings(JUST_ABOVE));
    expect(maxAbsDiff(one.pixels.data, doubled.pixels.data)).toBeLessThan(TOLERANCE);

    const reader = { ...frames[0]!, banks: [one.bank] };
    unetRows = [];
    const readOne = await engine.render([reader], settings(1));
    expect(unetRows).toEqual([1, 1, 1]);
    const readDoubled = await engine.render([{ ...reader, banks: [doubled.bank] }], settings(JUST_ABOVE));
    expect(maxAbsDiff(readOne.pixels[0]!.data, readDoubled.pixels[0]!.data)).toBeLessThan(TOLERANCE);
    // The bank is really read: without it the frame differs by more than the tolerance (the
    // random-weight tiny packs barely listen to it; story-world's trained ones do, which is
    // where reading the wrong half of the bank would show).
    const plain = await engine.render([frames[0]!], settings(1));
    expect(maxAbsDiff(readOne.pixels[0]!.data, plain.pixels[0]!.data)).toBeGreaterThan(TOLERANCE);
  });

  it('treats guidance below 1, 0 included, as conditional-only (diffusers), not as the unconditional picture', async () => {
    const one = await engine.render(frames, settings(1));
    for (const g of [0, 0.5]) {
      const below = await engine.render(frames, settings(g));
      expect(flat(below.pixels)).toEqual(flat(one.pixels));
    }
  });
});
