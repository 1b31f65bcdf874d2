import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BankCache, bankKey } from '../../src/workers/bank-cache';

const recipe = { prompts: ['a person standing in the city'], negativePrompt: '', seeds: [1], rate: 0.5, csaSeed: 1 };
const settings = { scheduler: 'ddim' as const, steps: 25, guidance: 5 };
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('bank cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-banks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keys banks by model, recipe and every generation setting', () => {
    const key = bankKey('m'.repeat(64), recipe, settings);
    expect(bankKey('m'.repeat(64), { ...recipe }, { ...settings })).toBe(key);
    expect(bankKey('n'.repeat(64), recipe, settings)).not.toBe(key);
    expect(bankKey('m'.repeat(64), { ...recipe, seeds: [2] }, settings)).not.toBe(key);
    expect(bankKey('m'.repeat(64), recipe, { ...settings, steps: 30 })).not.toBe(key);
    expect(bankKey('m'.repeat(64), recipe, { ...settings, scheduler: 'dpmpp_2m' })).not.toBe(key);
    expect(bankKey('m'.repeat(64), recipe, { ...settings, guidance: 7 })).not.toBe(key);
    // A bank holds one image size's tokens.
    const sized = bankKey('m'.repeat(64), recipe, { ...settings, width: 256, height: 320 });
    expect(sized).not.toBe(key);
    expect(bankKey('m'.repeat(64), recipe, { ...settings, width: 256, height: 256 })).not.toBe(sized);
  });

  it('builds once for callers asking together, then serves from memory', async () => {
    const cache = new BankCache(dir, 1000);
    let builds = 0;
    const build = async () => {
      builds++;
      return bytes(100, 7);
    };
    const [a, b] = await Promise.all([cache.get('k1', build), cache.get('k1', build)]);
    expect(builds).toBe(1);
    expect(a).toBe(b);
    expect(await cache.get('k1', build)).toBe(a);
    expect(cache.snapshot()).toMatchObject({ misses: 1, memoryHits: 1, diskHits: 0, entries: 1, bytes: 100 });
  });

  it('keeps memory under its byte bound, least recently used out first, and reads evicted banks back from disk', async () => {
    const cache = new BankCache(dir, 250);
    const never = async (): Promise<Uint8Array> => {
      throw new Error('should not rebuild');
    };
    await cache.get('a', async () => bytes(100, 1));
    await cache.get('b', async () => bytes(100, 2));
    await cache.get('a', never); // a is now the most recently used
    await cache.get('c', async () => bytes(100, 3)); // 300 > 250: b goes
    expect(cache.snapshot()).toMatchObject({ entries: 2, bytes: 200 });
    expect(readdirSync(dir).sort()).toEqual(['a.sfbank', 'b.sfbank', 'c.sfbank']);
    const b = await cache.get('b', never);
    expect(Array.from(b.subarray(0, 3))).toEqual([2, 2, 2]);
    expect(cache.snapshot().diskHits).toBe(1);
  });

  it('survives a restart through the disk copy', async () => {
    await new BankCache(dir, 1000).get('k', async () => bytes(64, 9));
    const fresh = new BankCache(dir, 1000);
    const again = await fresh.get('k', async () => {
      throw new Error('should not rebuild');
    });
    expect(again).toEqual(bytes(64, 9));
  });
});
