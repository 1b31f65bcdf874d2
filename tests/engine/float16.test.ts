import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { float32, float32ToFloat16, float16ToFloat32, fromHalfBits, toHalfBits } from '../../src/engine/tensor';

// numpy's astype(float16) on edge cases (overflow, subnormals, ties) and random values,
// recorded by tests/fixtures/engine/make_runtime_models.py.
const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/engine/float16.json'), 'utf8')) as {
  float32: (number | string)[];
  half_bits: number[];
  back: (number | string)[];
};
const num = (v: number | string) => (typeof v === 'number' ? v : v === 'inf' ? Infinity : -Infinity);

describe('float16 conversion', () => {
  it('rounds like numpy (nearest, ties to even, subnormals, overflow to inf)', () => {
    const bits = fixture.float32.map((v) => toHalfBits(num(v)));
    expect(bits).toEqual(fixture.half_bits);
  });

  it('converts half bits back exactly', () => {
    expect(fixture.half_bits.map(fromHalfBits)).toEqual(fixture.back.map(num));
  });

  it('fp16 -> fp32 -> fp16 is lossless for every finite half', () => {
    const all = new Uint16Array(0x7c00);
    for (let i = 0; i < all.length; i++) all[i] = i;
    const back = float32ToFloat16(float16ToFloat32({ type: 'float16', dims: [all.length], data: all }));
    expect(back.data).toEqual(all);
  });

  it('keeps NaN a NaN', () => {
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
    expect(float32ToFloat16(float32([1], [NaN])).data[0]! & 0x7c00).toBe(0x7c00);
  });
});
