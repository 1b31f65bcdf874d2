/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * Renders are reproducible to the byte: the same seed through the engine twice, encoded at
 * the pack's upscale, gives the same PNG file (so a render's content hash is stable).
 */
import { join } from 'node:path';
import { StoryEngine } from '../../src/engine/story-engine';
import { encodePng } from '../../src/images';

const PACK = join(__dirname, '../../models/packs/story-world');
let engine: StoryEngine;

beforeAll(async () => {
  engine = await StoryEngine.open(PACK, { runtime: { intraOpThreads: 1 } });
});

afterAll(async () => {
  await engine?.dispose();
});

it('gives identical PNG bytes for the same seed, other bytes for another seed', async () => {
  const settings = { scheduler: 'ddim' as const, steps: 3, guidance: 5 };
  const frame = (seed: number) => ({ prompt: 'a person with red hair waving in the city', negativePrompt: '', seed, banks: [] });
  const upscale = engine.manifest.upscale;
  const first = await engine.render([frame(42)], settings);
  const second = await engine.render([frame(42)], settings);
  const other = await engine.render([frame(43)], settings);
  const [a, b, c] = await Promise.all([first, second, other].map((r) => encodePng(r.images[0]!, { upscale })));
  expect([a!.width, a!.height]).toEqual([engine.manifest.sample.width * upscale.factor, engine.manifest.sample.height * upscale.factor]);
  expect(a!.bytes.equals(b!.bytes)).toBe(true);
  expect(a!.bytes.equals(c!.bytes)).toBe(false);
});
