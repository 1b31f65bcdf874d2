/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * The StoryEngine end to end on the tiny SD1.5- and SDXL-structured packs (random weights, so
 * the pictures are noise): identity bank built through the CSA-patched UNet, frames rendered
 * reading it, latents decoded by the VAE, pictures of the pack's size. The same pipeline and
 * loop as the story-world pack; only the conditioning strategy differs by family.
 */
import { join } from 'node:path';
import { GenerationSettings, StoryEngine } from '../../src/engine/story-engine';
import { imageSize } from '../../src/engine/pack';

const ROOT = join(__dirname, '../..');
// Several sessions per pack (two text encoders, the patched UNet, the VAE): on two shared cores
// opening them alone can take most of the default 60 s.
jest.setTimeout(180_000);

describe.each([
  ['sd15-tiny', 'models/packs/sd15-tiny', { height: 128, width: 192 }, 9],
  ['sdxl-tiny', 'models/packs/sdxl-tiny', { height: 192, width: 128 }, 15],
])('StoryEngine on the %s pack', (_name, dir, size, layerCount) => {
  let engine: StoryEngine;
  // Euler ancestral draws step noise from the frames' seeds: covers the stochastic path too.
  const settings: GenerationSettings = { scheduler: 'euler_ancestral', steps: 3, guidance: 5 };
  const recipe = { prompts: ['a girl with a blue hat reading', 'a girl with a blue hat walking'], negativePrompt: '', seeds: [11, 12], rate: 0.5, csaSeed: 3 };

  beforeAll(async () => {
    engine = await StoryEngine.open(join(ROOT, dir), { runtime: { intraOpThreads: 2, interOpThreads: 1 }, batchSize: 2 });
  });
  afterAll(() => engine.dispose());

  it('builds an identity bank and renders frames reading it, through the VAE, at the pack size', async () => {
    expect(imageSize(engine.manifest)).toEqual(size);
    expect(engine.csaLayers).toHaveLength(layerCount);
    const steps: number[] = [];
    const { bank, images } = await engine.buildBank(recipe, settings, (done) => steps.push(done));
    // The identity run, then the bank written from its frames: one count over both.
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bank.header.references).toEqual({ referenceNoise: engine.manifest.csa?.referenceNoise ?? 0.5 });
    expect(images).toHaveLength(2);
    for (const img of images) expect({ height: img.height, width: img.width, bytes: img.data.length }).toEqual({ ...size, bytes: size.height * size.width * 3 });
    expect(bank.header.layers.map((l) => l.name)).toEqual(engine.csaLayers.map((l) => l.name));
    expect(bank.header.layers.every((l) => l.shared === 2 * Math.floor(0.5 * l.tokens + 0.5))).toBe(true);

    const frames = [
      { prompt: 'a girl with a blue hat in the city', negativePrompt: '', seed: 21, banks: [bank] },
      { prompt: 'a girl with a blue hat in the city', negativePrompt: '', seed: 21, banks: [] },
      { prompt: 'a tree', negativePrompt: 'blurry', seed: 22, banks: [] },
    ];
    const { images: rendered, pixels } = await engine.render(frames, settings);
    expect(rendered).toHaveLength(3);
    for (const img of rendered) expect([img.height, img.width]).toEqual([size.height, size.width]);
    for (const p of pixels) {
      expect(p.dims).toEqual([1, 3, size.height, size.width]);
      expect(p.data.every((v) => Number.isFinite(v) && v >= -1 && v <= 1)).toBe(true);
    }
    // The bank changed the frame that reads it (same prompt and seed without it).
    expect(Buffer.compare(Buffer.from(rendered[0]!.data), Buffer.from(rendered[1]!.data))).not.toBe(0);
  });

  it('renders the same bytes for the same seed twice', async () => {
    const frame = { prompt: 'a boy and his dog on the beach', negativePrompt: 'sketch', seed: 5, banks: [] };
    const a = await engine.render([frame], settings);
    const b = await engine.render([frame], settings);
    expect(Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data))).toBe(true);
  });
});
