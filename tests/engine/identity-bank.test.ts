/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * The identity bank: binary form (float32 and float16, size accounting, refusal of damaged
 * input) and the deterministic rebuild on the story-world pack (the same anchor recipe gives
 * the same bytes, so a platform may drop a bank and make it again on demand).
 */
import { join } from 'node:path';
import { AnchorRecipe, GenerationSettings, StoryEngine } from '../../src/engine/story-engine';
import { BankFormatError, BankHeader, IdentityBank } from '../../src/engine/story/identity-bank';
import { fromHalfBits, toHalfBits } from '../../src/engine/tensor';

const PACK = join(__dirname, '../../models/packs/story-world');

function header(overrides: Partial<BankHeader> = {}): BankHeader {
  return {
    format: 'storyforge-bank/1', model: 'm'.repeat(64), anchor: 'a'.repeat(64), scheduler: 'ddim', steps: 3, guidance: 5,
    width: 32, height: 32, identityFrames: 2, rates: { '16': 0.5, '64': 0.5 }, csaSeed: 7,
    layers: [{ name: 'up.0', tokens: 16, channels: 8, shared: 16 }, { name: 'up.1', tokens: 64, channels: 4, shared: 64 }],
    ...overrides,
  };
}

/** A bank holding values that are not exactly representable in float16. */
function filled(h: BankHeader = header()): IdentityBank {
  const bank = IdentityBank.empty(h);
  h.layers.forEach((l, li) => {
    for (let s = 0; s < h.steps; s++) {
      const v = new Float32Array(2 * l.shared * l.channels).map((_, i) => Math.sin(1 + li * 1000 + s * 100 + i) * 3.3);
      bank.store(s, li, v);
    }
  });
  return bank;
}

function payloadValues(h: BankHeader): number {
  return h.layers.reduce((n, l) => n + h.steps * 2 * l.shared * l.channels, 0);
}

function headerBytes(bytes: Uint8Array): number {
  const json = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return Math.ceil((12 + json) / 8) * 8;
}

describe('identity bank format', () => {
  it('round-trips float32 exactly, and the bytes again', () => {
    const bank = filled();
    const bytes = bank.serialize();
    const back = IdentityBank.deserialize(bytes);
    expect(back.header).toEqual(bank.header);
    for (let li = 0; li < 2; li++) for (let s = 0; s < 3; s++) expect(back.tokens(s, li)).toEqual(bank.tokens(s, li));
    expect(Buffer.from(back.serialize()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('round-trips float16 to the nearest half, with half the payload', () => {
    const bank = filled();
    const bytes = bank.serialize('float16');
    const back = IdentityBank.deserialize(bytes);
    const ours = bank.tokens(2, 1);
    const theirs = back.tokens(2, 1);
    for (let i = 0; i < ours.length; i++) expect(theirs[i]).toBe(fromHalfBits(toHalfBits(ours[i]!)));
    expect(theirs).not.toEqual(ours); // the values really were rounded
    expect(Buffer.from(back.serialize('float16')).equals(Buffer.from(bytes))).toBe(true);
  });

  it('accounts for its size: header + payload, float16 halving the payload', () => {
    const bank = filled();
    const n = payloadValues(bank.header);
    expect(bank.byteLength).toBe(4 * n);
    const f32 = bank.serialize('float32');
    const f16 = bank.serialize('float16');
    expect(headerBytes(f32) % 8).toBe(0);
    expect(f32.length).toBe(headerBytes(f32) + 4 * n);
    expect(f16.length).toBe(headerBytes(f16) + 2 * n);
    expect(bank.serializedSize('float32')).toEqual({ headerBytes: headerBytes(f32), payloadBytes: 4 * n, totalBytes: f32.length });
    expect(bank.serializedSize('float16')).toEqual({ headerBytes: headerBytes(f16), payloadBytes: 2 * n, totalBytes: f16.length });
  });

  describe('refuses damaged input with BankFormatError', () => {
    const good = filled().serialize();
    const withHeader = (edit: (h: Record<string, unknown>) => void, dtype = 'float32') => {
      const h: Record<string, unknown> = { ...header(), dtype };
      edit(h);
      const json = new TextEncoder().encode(JSON.stringify(h));
      const start = Math.ceil((12 + json.length) / 8) * 8;
      const out = new Uint8Array(start + payloadValues(header()) * 4);
      out.set(new TextEncoder().encode('SFBANK01'));
      new DataView(out.buffer).setUint32(8, json.length, true);
      out.set(json, 12);
      return out;
    };
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['magic only', good.subarray(0, 8)],
      ['cut in the length', good.subarray(0, 10)],
      ['cut in the header', good.subarray(0, 40)],
      ['cut in the payload', good.subarray(0, good.length - 4)],
      ['one byte too many', new Uint8Array([...good, 0])],
      ['bad magic', new Uint8Array([...new TextEncoder().encode('SFBANK02'), ...good.subarray(8)])],
      ['header length past the end', (() => { const b = good.slice(); new DataView(b.buffer).setUint32(8, 0xffffffff, true); return b; })()],
      ['header not JSON', (() => { const b = good.slice(); b[12] = 0x7b; b[13] = 0x7b; return b; })()],
      ['unknown dtype', withHeader(() => {}, 'int8')],
      ['unknown format', withHeader((h) => { h.format = 'storyforge-bank/9'; })],
      ['no layers', withHeader((h) => { delete h.layers; })],
      ['negative steps', withHeader((h) => { h.steps = -1; })],
      ['fractional channels', withHeader((h) => { h.layers = [{ name: 'up.0', tokens: 16, channels: 8.5, shared: 16 }]; })],
      ['layer without a name', withHeader((h) => { h.layers = [{ tokens: 16, channels: 8, shared: 16 }]; })],
      ['header is an array', withHeader((h) => { Object.keys(h).forEach((k) => delete h[k]); })],
    ];
    it.each(cases)('%s', (_name, bytes) => {
      expect(() => IdentityBank.deserialize(bytes)).toThrow(BankFormatError);
    });
  });
});

describe('deterministic rebuild on the story-world pack', () => {
  const settings: GenerationSettings = { scheduler: 'ddim', steps: 3, guidance: 5 };
  const recipe: AnchorRecipe = {
    prompts: ['a person with red hair standing in the forest', 'a person with red hair jumping on the beach'],
    negativePrompt: '', seeds: [101, 102], rate: 0.5, csaSeed: 17,
  };
  let engine: StoryEngine;
  let first: IdentityBank;

  beforeAll(async () => {
    engine = await StoryEngine.open(PACK, { runtime: { intraOpThreads: 1 } });
    first = (await engine.buildBank(recipe, settings)).bank;
  });

  afterAll(async () => {
    await engine?.dispose();
  });

  it('rebuilds byte for byte from the same recipe, with the same anchor hash', async () => {
    const again = (await engine.buildBank({ ...recipe, prompts: [...recipe.prompts], seeds: [...recipe.seeds] }, settings)).bank;
    expect(again.header.anchor).toBe(first.header.anchor);
    expect(first.header.anchor).toBe(engine.anchorHash(recipe, settings));
    expect(Buffer.from(again.serialize()).equals(Buffer.from(first.serialize()))).toBe(true);
    expect(first.header.layers.map((l) => l.name)).toEqual(engine.csaLayers.map((l) => l.name));
  });

  it('names another bank for another CSA seed or rate (and holds other tokens)', async () => {
    const otherSeed = { ...recipe, csaSeed: 18 };
    const hashes = [recipe, otherSeed, { ...recipe, rate: 0.25 }, { ...recipe, rate: { 16: 0.5, 64: 0.25 } }]
      .map((r) => engine.anchorHash(r, settings));
    expect(new Set(hashes).size).toBe(4);
    expect(engine.anchorHash(recipe, { ...settings, steps: 4 })).not.toBe(hashes[0]);
    const other = (await engine.buildBank(otherSeed, settings)).bank;
    expect(other.header.anchor).toBe(hashes[1]);
    // Step 1 of the last layer: other shared tokens were drawn.
    const last = first.header.layers.length - 1;
    expect(other.tokens(1, last)).not.toEqual(first.tokens(1, last));
  });

  it('renders the same picture from a deserialised bank as from the one in memory', async () => {
    const loaded = IdentityBank.deserialize(first.serialize());
    const frame = { prompt: 'a person with red hair waving at night', negativePrompt: '', seed: 103 };
    const live = await engine.render([{ ...frame, banks: [first] }], settings);
    const stored = await engine.render([{ ...frame, banks: [loaded] }], settings);
    const plain = await engine.render([{ ...frame, banks: [] }], settings);
    expect(stored.pixels[0]!.data).toEqual(live.pixels[0]!.data);
    // Not trivially equal: reading the bank changes the picture.
    const diff = live.pixels[0]!.data.reduce((m, v, i) => Math.max(m, Math.abs(v - plain.pixels[0]!.data[i]!)), 0);
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('refuses a bank made for other settings', async () => {
    await expect(engine.render([{ prompt: 'a person', negativePrompt: '', seed: 1, banks: [first] }], { ...settings, steps: 4 }))
      .rejects.toThrow('holds 3 ddim steps');
  });
});
