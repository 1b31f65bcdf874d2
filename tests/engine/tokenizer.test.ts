import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipBpeTokenizer, TokenizerError, WordTokenizer, encodeBatch, loadTokenizer, tokenizerFromJson } from '../../src/engine/tokenizer';

const ROOT = join(__dirname, '../..');
const FIX = join(__dirname, '../fixtures/engine');
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as unknown;

describe('story-world word tokenizer', () => {
  // models/story-world/world.py tokenize(), recorded by tests/fixtures/engine/make_word_tokens.py
  const fx = read(join(FIX, 'word_tokens.json')) as { tokenizer: unknown; prompts: string[]; ids: number[][] };
  const tok = WordTokenizer.fromJson(fx.tokenizer);

  it.each(fx.prompts.map((p, i) => [JSON.stringify(p).slice(0, 40), i] as const))('matches world.tokenize for %s', (_p, i) => {
    expect(tok.encode(fx.prompts[i]!)).toEqual(fx.ids[i]);
  });

  it('builds [B, 24] int64 input_ids', () => {
    const t = encodeBatch(tok, ['a person', '']);
    expect(t.type).toBe('int64');
    expect(t.dims).toEqual([2, 24]);
    expect(Array.from(t.data.slice(0, 24), Number)).toEqual(tok.encode('a person'));
    expect(Array.from(t.data.slice(24), Number)).toEqual(tok.encode(''));
  });

  it("loads the story-world pack's tokenizer.json", async () => {
    const t = await loadTokenizer(join(ROOT, 'models/packs/story-world/tokenizer.json'), { kind: 'story-world-words', maxLength: 32 });
    expect(t.maxLength).toBe(32);
    // The longest caption (every attribute named, pose, scene) fits with room to spare.
    const longest = t.encode('a person with blonde hair, pale skin, an orange shirt, white trousers and a top hat jumping in the desert');
    expect(longest.indexOf(2)).toBeGreaterThan(0); // <eos> present: nothing cut
    expect(longest.indexOf(2)).toBeLessThan(28);
    expect(t.encode('a person')[0]).toBe(1); // <bos>
  });

  it('rejects a malformed vocabulary', () => {
    expect(() => WordTokenizer.fromJson({ ...(fx.tokenizer as object), unk: '<missing>' })).toThrow(/unk token "<missing>" is not in the vocabulary/);
    expect(() => WordTokenizer.fromJson({ type: 'bpe' })).toThrow(/expected type "story-world-words"/);
  });
});

describe('CLIP BPE tokenizer (tiny SD pack)', () => {
  // Reference ids from CLIP's own BPE algorithm, written out in models/sd15-tiny/make_tiny.py.
  const fx = read(join(FIX, 'clip_tokens.json')) as { prompts: string[]; ids: number[][] };
  const json = read(join(ROOT, 'models/packs/sd15-tiny/tokenizer.json')) as { model: { vocab: Record<string, number> } };
  const tok = ClipBpeTokenizer.fromJson(json, { maxLength: 77 });
  const bos = json.model.vocab['<|startoftext|>']!;
  const eos = json.model.vocab['<|endoftext|>']!;

  it.each(fx.prompts.map((p, i) => [JSON.stringify(p).slice(0, 40), i] as const))('matches the reference BPE for %s', (_p, i) => {
    expect(tok.encode(fx.prompts[i]!)).toEqual(fx.ids[i]);
  });

  it('frames with bos/eos, pads to 77 with <|endoftext|>, truncates long prompts keeping eos', () => {
    const short = tok.encode('a dog');
    expect(short).toHaveLength(77);
    expect(short[0]).toBe(bos);
    expect(short.slice(1, 3).every((id) => id !== eos)).toBe(true);
    expect(short.slice(short.indexOf(eos))).toEqual(Array(77 - short.indexOf(eos)).fill(eos));
    const long = tok.encode('castle '.repeat(200));
    expect(long).toHaveLength(77);
    expect(long[76]).toBe(eos);
    expect(long.slice(1, 76).includes(eos)).toBe(false);
  });

  it('merges known words into one token and splits unknown ones into byte pieces', () => {
    expect(tok.tokenIds('Night')).toEqual([json.model.vocab['night</w>']]);
    expect(tok.tokenIds('quokka').length).toBeGreaterThan(1);
  });

  it('uses a configured pad token (SDXL second encoder style)', () => {
    const t = ClipBpeTokenizer.fromJson(json, { maxLength: 10, padToken: '!' });
    expect(t.encode('a')[9]).toBe(json.model.vocab['!']);
    expect(() => ClipBpeTokenizer.fromJson(json, { maxLength: 10, padToken: '<pad>' })).toThrow(/pad token "<pad>" is not in the vocabulary/);
  });
});

describe('loadTokenizer', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tok-'));
    writeFileSync(join(dir, 'bad.json'), '{ not json');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file and the problem', async () => {
    await expect(loadTokenizer(join(dir, 'missing.json'), { kind: 'clip-bpe', maxLength: 77 })).rejects.toThrow(/cannot read .*missing\.json/);
    await expect(loadTokenizer(join(dir, 'bad.json'), { kind: 'clip-bpe', maxLength: 77 })).rejects.toThrow(/bad\.json is not valid JSON/);
    await expect(loadTokenizer(join(ROOT, 'models/packs/story-world/tokenizer.json'), { kind: 'clip-bpe', maxLength: 77 })).rejects.toThrow(TokenizerError);
    expect(() => tokenizerFromJson({}, { kind: 'sentencepiece', maxLength: 8 })).toThrow(/unknown tokenizer "sentencepiece"/);
  });
});
