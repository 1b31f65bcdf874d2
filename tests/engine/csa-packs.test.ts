/** @jest-environment ./tests/engine/ort-environment.js */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsaPatch, patchCsaModel, plainCsaFeeds } from '../../src/engine/csa';
import { ModelSession } from '../../src/engine/runtime';
import { Rng } from '../../src/engine/random';
import { Float32Tensor, Tensor, float32, int64 } from '../../src/engine/tensor';

// The committed packs: the story-world model (models/packs/story-world, exported by
// models/story-world/export.py) and the tiny SD1.5-structured pack (models/sd15-tiny/make_tiny.py).
const ROOT = join(__dirname, '../..');
const cpu = { intraOpThreads: 2, interOpThreads: 1 };

interface Manifest {
  sample: { channels: number; height: number; width: number };
  text: { max_length: number; hidden_size: number };
  self_attention: { name: string; tokens: number; channels: number; csa: boolean }[];
  csa: { layers: string[] };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function unetFeeds(m: Manifest, batch: number, seed: number): Record<string, Tensor> {
  const r = new Rng(seed);
  const { channels, height, width } = m.sample;
  return {
    sample: float32([batch, channels, height, width], r.normal(batch * channels * height * width)),
    timestep: float32([batch], Array.from({ length: batch }, (_, i) => 999 - 250 * i)),
    encoder_hidden_states: float32([batch, m.text.max_length, m.text.hidden_size], r.normal(batch * m.text.max_length * m.text.hidden_size)),
  };
}

describe.each([
  ['story-world', 'models/packs/story-world'],
  ['sd15-tiny', 'models/packs/sd15-tiny'],
])('CSA patch on the %s pack UNet', (_name, dir) => {
  const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'manifest.json'), 'utf8')) as Manifest;
  const original = readFileSync(join(ROOT, dir, 'unet.onnx'));
  const tokens = Object.fromEntries(manifest.self_attention.map((l) => [l.name, l.tokens]));
  let patch: CsaPatch;
  let plain: ModelSession;
  let patched: ModelSession;

  beforeAll(async () => {
    const result = patchCsaModel(original, { tokens, layers: manifest.csa.layers });
    patch = result.patch;
    plain = await ModelSession.create(original, cpu, 'unet');
    patched = await ModelSession.create(result.bytes, cpu, 'unet+csa');
  });
  afterAll(async () => {
    await plain.dispose();
    await patched.dispose();
  });

  it('patches exactly the attn1 layers the manifest lists, with their channels', () => {
    expect(patch.layers.map((l) => l.name)).toEqual(manifest.csa.layers);
    const byName = new Map(manifest.self_attention.map((l) => [l.name, l]));
    for (const l of patch.layers) {
      expect(l.channels).toBe(byName.get(l.name)!.channels);
      expect(l.tokens).toBe(byName.get(l.name)!.tokens);
      expect(l.keyCheck).toEqual({ verified: true });
      expect(l.valueCheck).toEqual({ verified: true });
    }
    // story-world was trained with CSA on every attn1; the SD pack patches the decoder half.
    const listed = new Set(manifest.csa.layers);
    expect(patch.skipped).toEqual(manifest.self_attention.map((l: { name: string }) => l.name).filter((n: string) => !listed.has(n)));
    for (const l of patch.layers) {
      expect(patched.input(l.names.index)).toBeDefined();
      expect(patched.input(l.names.bank)!.shape[2]).toBe(l.channels);
      expect(patched.output(l.names.tokens)).toBeDefined();
    }
  });

  it('gives the original output with no extra tokens (max abs diff <= 1e-5)', async () => {
    const feeds = unetFeeds(manifest, 2, 11);
    const before = (await plain.run(feeds)).out_sample as Float32Tensor;
    const after = (await patched.run({ ...feeds, ...plainCsaFeeds(patch.layers, 2) }, { outputs: ['out_sample'] })).out_sample as Float32Tensor;
    expect(after.dims).toEqual(before.dims);
    expect(maxAbsDiff(after.data, before.data)).toBeLessThanOrEqual(1e-5);
  });

  it('identity phase (gather by index) equals read phase (the stored tokens as a bank) through every layer', async () => {
    const feeds = unetFeeds(manifest, 2, 12);
    const rng = new Rng(5);
    const identity: Record<string, Tensor> = {};
    const picked = new Map<string, number[][]>();
    for (const l of patch.layers) {
      const n = l.tokens!;
      const m = Math.round(n / 2);
      // frame b borrows half of the other frame's tokens: flat rows (1 - b) * n + k
      const rows = [0, 1].map((b) => rng.sampleIndices(n, m).map((k) => (1 - b) * n + k));
      picked.set(l.name, rows);
      identity[l.names.index] = int64([2, m], rows.flat());
      identity[l.names.bank] = float32([2, 0, l.channels]);
      identity[l.names.storeIndex] = int64([2 * m], rows.flat());
    }
    const write = await patched.run({ ...feeds, ...identity });
    const read: Record<string, Tensor> = {};
    for (const l of patch.layers) {
      const m = picked.get(l.name)![0]!.length;
      read[l.names.index] = int64([2, 0], []);
      read[l.names.bank] = float32([2, m, l.channels], (write[l.names.tokens] as Float32Tensor).data);
      read[l.names.storeIndex] = int64([0], []);
    }
    const readOut = await patched.run({ ...feeds, ...read }, { outputs: ['out_sample'] });
    const plainOut = await plain.run(feeds);
    const a = (write.out_sample as Float32Tensor).data;
    expect(maxAbsDiff(a, (readOut.out_sample as Float32Tensor).data)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(a, (plainOut.out_sample as Float32Tensor).data)).toBeGreaterThan(1e-4); // CSA took effect
  });
});
