/** @jest-environment ./tests/engine/ort-environment.js */
import { join } from 'node:path';
import { FeedError, ModelSession, Runtime, parseProviders, runtimeConfig } from '../../src/engine/runtime';
import { float32, float32ToFloat16, int64 } from '../../src/engine/tensor';

// Tiny models written by tests/fixtures/engine/make_runtime_models.py, run in the real onnxruntime-node.
const fixture = (name: string) => join(__dirname, '../fixtures/engine', name);
const cpu = { intraOpThreads: 1, interOpThreads: 1 };

describe('ModelSession', () => {
  let scale: ModelSession;
  beforeAll(async () => {
    scale = await ModelSession.create(fixture('scale.onnx'), cpu, 'scale');
  });
  afterAll(async () => {
    await scale.dispose();
  });

  it('reads names, element types and symbolic shapes from the model', () => {
    expect(scale.inputs).toEqual([
      { name: 'x', type: 'float32', shape: ['batch', 4] },
      { name: 'ids', type: 'int64', shape: ['batch', 2] },
    ]);
    expect(scale.outputs.map((o) => [o.name, o.type])).toEqual([['y', 'float32'], ['count', 'int64']]);
  });

  it('runs plain tensors through and returns plain tensors', async () => {
    const out = await scale.run({ x: float32([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]), ids: int64([2, 2], [1, 2, 3, 4]) });
    expect(out.y).toEqual({ type: 'float32', dims: [2, 4], data: new Float32Array([2, 4, 6, 8, 10, 12, 14, 16]) });
    expect(out.count!.type).toBe('int64');
    expect(out.count!.data).toEqual(new BigInt64Array([10n]));
  });

  it('computes only the requested outputs', async () => {
    const out = await scale.run({ x: float32([1, 4]), ids: int64([1, 2], [0, 0]) }, { outputs: ['count'] });
    expect(Object.keys(out)).toEqual(['count']);
    await expect(scale.run({ x: float32([1, 4]), ids: int64([1, 2], [0, 0]) }, { outputs: ['nope'] })).rejects.toThrow(/unknown output nope/);
  });

  it.each([
    ['a missing input', { x: float32([1, 4]) }, /missing input ids \(int64\[batch, 2\]\)/],
    ['an unknown input', { x: float32([1, 4]), ids: int64([1, 2], [0, 0]), extra: float32([1]) }, /unknown input extra/],
    ['a wrong element type', { x: float32([1, 4]), ids: float32([1, 2]) }, /input ids expects int64\[batch, 2\], got float32\[1, 2\] \(element type\)/],
    ['a wrong rank', { x: float32([4]), ids: int64([1, 2], [0, 0]) }, /input x expects float32\[batch, 4\], got float32\[4\] \(rank\)/],
    ['a wrong fixed dimension', { x: float32([1, 5]), ids: int64([1, 2], [0, 0]) }, /input x expects float32\[batch, 4\], got float32\[1, 5\] \(dimension 1\)/],
  ])('rejects %s before running, naming the input', async (_what, feeds, message) => {
    await expect(scale.run(feeds)).rejects.toThrow(FeedError);
    await expect(scale.run(feeds)).rejects.toThrow(message);
  });

  it('reports every feed shape and dtype when onnxruntime rejects a run', async () => {
    const s = await ModelSession.create(fixture('reshape.onnx'), cpu, 'reshape');
    try {
      await expect(s.run({ v: float32([1, 3]) })).rejects.toThrow(/reshape: run failed with feeds v: float32\[1, 3\]: .+/);
      expect((await s.run({ v: float32([2, 2]) })).rows!.dims).toEqual([1, 4]);
    } finally {
      await s.dispose();
    }
  });

  it('converts float32 to float16 inputs and back at the boundary', async () => {
    const s = await ModelSession.create(fixture('half.onnx'), cpu, 'half');
    try {
      expect(s.inputs[0]!.type).toBe('float16');
      const out = await s.run({ h: float32([1, 3], [0.5, -1.25, 1000]) });
      expect(out.double).toEqual({ type: 'float32', dims: [1, 3], data: new Float32Array([1, -2.5, 2000]) });
      const kept = await s.run({ h: float32ToFloat16(float32([1, 3], [0.1, 1, 2])) }, { float16Outputs: 'keep' });
      expect(kept.double!.type).toBe('float16');
      expect(kept.double!.data).toEqual(float32ToFloat16(float32([1, 3], [0.2, 2, 4])).data);
    } finally {
      await s.dispose();
    }
  });

  it('refuses to run after dispose', async () => {
    const s = await ModelSession.create(fixture('scale.onnx'), cpu);
    await s.dispose();
    await expect(s.run({ x: float32([1, 4]), ids: int64([1, 2], [0, 0]) })).rejects.toThrow(/after dispose/);
  });

  it('names the model and the providers when a session cannot be created', async () => {
    await expect(ModelSession.create(fixture('missing.onnx'), cpu, 'missing')).rejects.toThrow(/missing: cannot create a session with providers \[cpu\]/);
  });
});

describe('Runtime', () => {
  it('releases every session it opened with one dispose()', async () => {
    const rt = new Runtime(cpu);
    const a = await rt.open(fixture('scale.onnx'));
    await rt.open(fixture('half.onnx'));
    expect(rt.openSessions).toBe(2);
    await rt.dispose();
    expect(rt.openSessions).toBe(0);
    await expect(a.run({ x: float32([1, 4]), ids: int64([1, 2], [0, 0]) })).rejects.toThrow(/after dispose/);
  });

  it('validates the configuration', () => {
    expect(runtimeConfig().executionProviders).toEqual(['cpu']);
    expect(parseProviders('CUDA, cpu')).toEqual(['cuda', 'cpu']);
    expect(() => parseProviders('tpu')).toThrow(/unknown execution provider "tpu"/);
    expect(() => runtimeConfig({ intraOpThreads: 0 })).toThrow(/intraOpThreads/);
    expect(() => runtimeConfig({ executionProviders: [] })).toThrow(/at least one/);
  });
});
