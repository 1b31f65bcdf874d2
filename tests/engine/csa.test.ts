/** @jest-environment ./tests/engine/ort-environment.js */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsaPatchError, OnnxGraphView, csaNames, findSelfAttentionLayers, patchCsaFile, patchCsaModel, plainCsaFeeds } from '../../src/engine/csa';
import { ModelSession } from '../../src/engine/runtime';
import { Float32Tensor, Tensor, float32, float32ToFloat16, int64 } from '../../src/engine/tensor';

// Written by tests/fixtures/engine/make_csa_fixtures.py (torch.onnx exports + PyTorch reference values).
const FIX = join(__dirname, '../fixtures/engine');
const ref = JSON.parse(readFileSync(join(FIX, 'csa_tiny.json'), 'utf8')) as {
  B: number; N: number; C: number; M: number; layer: string;
  hidden: number[]; extra: number[]; plain: number[]; csa: number[]; x_up: number[];
};
const UP = ref.layer;
const DOWN = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1';
const cpu = { intraOpThreads: 1, interOpThreads: 1 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function run(model: string | Uint8Array, feeds: Record<string, Tensor>, outputs?: string[]): Promise<Record<string, Tensor>> {
  const s = await ModelSession.create(model, cpu);
  try {
    return await s.run(feeds, outputs ? { outputs } : {});
  } finally {
    await s.dispose();
  }
}

const hidden = () => float32([ref.B, ref.N, ref.C], ref.hidden);

describe('CSA patch on a tiny exported attention graph', () => {
  const original = readFileSync(join(FIX, 'csa_tiny.onnx'));
  const { bytes, patch } = patchCsaModel(original);
  const names = csaNames(UP);

  it('finds attn1 layers by scope name and patches the decoder half by default', () => {
    expect(findSelfAttentionLayers(new OnnxGraphView(original)).map((l) => l.name).sort()).toEqual([DOWN, UP]);
    expect(patch.skipped).toEqual([DOWN]);
    expect(patch.externalData).toBe(false);
    expect(patch.layers).toEqual([{
      name: UP, channels: ref.C, dtype: 'float32', tokens: null, names,
      keyCheck: { verified: true }, valueCheck: { verified: true },
    }]);
  });

  it('declares the new inputs and output with the expected names, types and symbolic dims', async () => {
    const s = await ModelSession.create(bytes, cpu);
    try {
      expect(s.inputs).toEqual([
        { name: 'hidden', type: 'float32', shape: ['batch', ref.N, ref.C] },
        { name: names.index, type: 'int64', shape: ['batch', `${UP}.csa_extra`] },
        { name: names.bank, type: 'float32', shape: ['batch', `${UP}.csa_bank_tokens`, ref.C] },
        { name: names.storeIndex, type: 'int64', shape: [`${UP}.csa_store`] },
      ]);
      expect(s.outputs.map((o) => o.name)).toEqual(['out', names.tokens]);
    } finally {
      await s.dispose();
    }
  });

  it('with no extra tokens gives the original output (and PyTorch plain attention)', async () => {
    const before = (await run(original, { hidden: hidden() })).out!;
    const after = await run(bytes, { hidden: hidden(), ...plainCsaFeeds(patch.layers, ref.B) });
    expect(maxAbsDiff(after.out!.data as Float32Array, before.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(after.out!.data as Float32Array, ref.plain)).toBeLessThanOrEqual(1e-5);
    expect(after[names.tokens]!.dims).toEqual([0, ref.C]);
  });

  it('with a bank matches PyTorch attention over [extra; own] keys and values, and stores X rows', async () => {
    const rows = Array.from({ length: ref.B * ref.N }, (_, i) => i);
    const out = await run(bytes, {
      hidden: hidden(),
      [names.index]: int64([ref.B, 0], []),
      [names.bank]: float32([ref.B, ref.M, ref.C], ref.extra),
      [names.storeIndex]: int64([rows.length], rows),
    });
    expect(maxAbsDiff(out.out!.data as Float32Array, ref.csa)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(out.out!.data as Float32Array, ref.plain)).toBeGreaterThan(1e-3); // CSA really changed something
    expect(out[names.tokens]!.dims).toEqual([rows.length, ref.C]);
    expect(maxAbsDiff(out[names.tokens]!.data as Float32Array, ref.x_up)).toBeLessThanOrEqual(1e-5);
  });

  it('gathering the other frame by index equals giving the same tokens as a bank', async () => {
    const N = ref.N;
    // frame 0 borrows rows 1, 3, 4 of frame 1; frame 1 borrows rows 0, 2, 5 of frame 0 (flat index b*N + n)
    const index = int64([2, 3], [N + 1, N + 3, N + 4, 0, 2, 5]);
    const stored = await run(bytes, {
      hidden: hidden(), [names.index]: int64([2, 0], []), [names.bank]: float32([2, 0, ref.C]),
      [names.storeIndex]: int64([6], [N + 1, N + 3, N + 4, 0, 2, 5]),
    });
    const viaIndex = await run(bytes, { hidden: hidden(), [names.index]: index, [names.bank]: float32([2, 0, ref.C]), [names.storeIndex]: int64([0], []) });
    const tokens = stored[names.tokens] as Float32Tensor;
    const viaBank = await run(bytes, {
      hidden: hidden(), [names.index]: int64([2, 0], []), [names.bank]: float32([2, 3, ref.C], tokens.data), [names.storeIndex]: int64([0], []),
    });
    expect(maxAbsDiff(viaIndex.out!.data as Float32Array, viaBank.out!.data as Float32Array)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(viaIndex.out!.data as Float32Array, ref.plain)).toBeGreaterThan(1e-3);
  });

  it('patches an explicit layer list, and rejects unknown layers and a second patch', () => {
    const both = patchCsaModel(original, { layers: [DOWN, UP] });
    expect(both.patch.layers.map((l) => l.name)).toEqual([DOWN, UP]);
    expect(both.patch.skipped).toEqual([]);
    expect(() => patchCsaModel(original, { layers: ['up_blocks.9.attentions.0.transformer_blocks.0.attn1'] })).toThrow(/unknown self-attention layer up_blocks\.9/);
    expect(() => patchCsaModel(original, { blockPrefixes: ['mid_block.'] })).toThrow(/no self-attention layer starts with mid_block\./);
    expect(() => patchCsaModel(bytes)).toThrow(/already has a tensor named .*csa_index \(already patched\?\)/);
  });

  it('records token counts given by the caller (the manifest)', () => {
    expect(patchCsaModel(original, { tokens: { [UP]: ref.N } }).patch.layers[0]!.tokens).toBe(ref.N);
  });

  it('refuses a graph whose K/V reshape fixes the token count', () => {
    expect(() => patchCsaModel(readFileSync(join(FIX, 'csa_frozen.onnx')))).toThrow(CsaPatchError);
    expect(() => patchCsaModel(readFileSync(join(FIX, 'csa_frozen.onnx')))).toThrow(/the K reshape \S+ fixes the token count \(target shape \[\?, \?, 2, \?\]\)/);
  });

  it('refuses graphs without diffusers-named attention', () => {
    expect(() => patchCsaModel(readFileSync(join(FIX, 'scale.onnx')))).toThrow(/no self-attention layers found/);
    expect(() => patchCsaModel(new Uint8Array([0x08, 0x07]))).toThrow(/not an ONNX model/);
  });

  it('keeps float16 graphs in float16: the bank and tokens take X dtype', async () => {
    const fp16 = patchCsaModel(readFileSync(join(FIX, 'csa_tiny_fp16.onnx')));
    expect(fp16.patch.layers[0]!.dtype).toBe('float16');
    const s = await ModelSession.create(fp16.bytes, cpu);
    try {
      expect(s.input(names.bank)!.type).toBe('float16');
      expect(s.output(names.tokens)!.type).toBe('float16');
      const h = float32ToFloat16(hidden());
      const before = await run(join(FIX, 'csa_tiny_fp16.onnx'), { hidden: h });
      const after = await s.run({ hidden: h, ...plainCsaFeeds(fp16.patch.layers, ref.B) });
      expect(maxAbsDiff(after.out!.data as Float32Array, before.out!.data as Float32Array)).toBeLessThanOrEqual(1e-5);
      // fp16 weights: close to the float32 reference, not equal
      expect(maxAbsDiff(after.out!.data as Float32Array, ref.plain)).toBeLessThan(2e-2);
    } finally {
      await s.dispose();
    }
  });
});

describe('CSA patch on a model with external data', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'csa-ext-'));
    copyFileSync(join(FIX, 'csa_tiny_ext.onnx'), join(dir, 'unet.onnx'));
    copyFileSync(join(FIX, 'csa_tiny_ext.onnx.data'), join(dir, 'csa_tiny_ext.onnx.data'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('patches the graph file only and writes it beside the weights, whose references still resolve', async () => {
    const { path, patch } = await patchCsaFile(join(dir, 'unet.onnx'));
    expect(path).toBe(join(dir, 'unet.csa.onnx'));
    expect(patch.externalData).toBe(true);
    expect(statSync(path).size).toBeLessThan(statSync(join(dir, 'unet.onnx')).size + 4096); // no weights were inlined
    const before = (await run(join(dir, 'unet.onnx'), { hidden: hidden() })).out!;
    const after = (await run(path, { hidden: hidden(), ...plainCsaFeeds(patch.layers, ref.B) }, ['out'])).out!;
    expect(maxAbsDiff(after.data as Float32Array, before.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(after.data as Float32Array, ref.plain)).toBeLessThanOrEqual(1e-5);
  });

  it('refuses to write the patched graph away from its external data', async () => {
    await expect(patchCsaFile(join(dir, 'unet.onnx'), { outputPath: join(tmpdir(), 'elsewhere.onnx') })).rejects.toThrow(/same folder/);
  });
});
