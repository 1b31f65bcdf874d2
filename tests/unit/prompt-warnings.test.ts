/** What a prompt loses, measured with the packs' real tokenizers (the story world's words, SD's CLIP BPE). */
import { resolve } from 'node:path';
import { composePrompt } from '../../src/domain/prompts/prompt-warnings';
import { PackRegistry } from '../../src/packs/pack-registry';

const packs = PackRegistry.load(resolve(__dirname, '../../models/packs'));
const tokenizer = (name: string) => packs.tokenizer(packs.get(name)!);

const MIRA = { name: 'Mira', description: 'a person with red hair, a blue cap, pale skin, a green shirt and black trousers' };
const TOMO = { name: 'Tomo', description: 'a person with blonde hair, a red top hat, tan skin, a pink shirt and gray trousers' };

describe('composePrompt', () => {
  it('keeps everything, in reading order, when it fits', async () => {
    const meter = await tokenizer('story-world');
    expect(composePrompt({ characters: [MIRA], frame: 'waving on the beach', style: null }, meter))
      .toEqual({ prompt: `${MIRA.description} waving on the beach`, warnings: [] });
  });

  it("keeps the frame's action when two descriptions would push it past the budget, shortening both evenly", async () => {
    const meter = await tokenizer('story-world');
    // Joined naively, the two descriptions alone fill the 30 words the story world reads.
    expect(meter.count(`${MIRA.description} ${TOMO.description}`)).toBeGreaterThan(meter.budget);
    const { prompt, warnings } = composePrompt({ characters: [MIRA, TOMO], frame: 'waving on the beach', style: null }, meter);
    expect(prompt.endsWith('waving on the beach')).toBe(true);
    expect(meter.count(prompt)).toBeLessThanOrEqual(meter.budget);
    expect(warnings.map((w) => [w.code, w.message.split("'")[0]])).toEqual([['PART_SHORTENED', 'Mira'], ['PART_SHORTENED', 'Tomo']]);
    // Even shares: (30 - 4) / 2 = 13 words each.
    expect(meter.count(prompt.slice(0, prompt.indexOf(' a person with blonde')))).toBe(13);
    expect(warnings[0]!.words.join(' ')).toBe(MIRA.description.split(' ').slice(13).join(' '));
  });

  it("gives a short description's unused share to the others", async () => {
    const meter = await tokenizer('story-world');
    const short = { name: 'Kid', description: 'a person' };
    const { prompt, warnings } = composePrompt({ characters: [short, MIRA, TOMO], frame: 'waving on the beach', style: null }, meter);
    expect(prompt.startsWith('a person a person with red hair')).toBe(true);
    expect(meter.count(prompt)).toBe(meter.budget);
    expect(warnings.map((w) => w.code)).toEqual(['PART_SHORTENED', 'PART_SHORTENED']);
  });

  it('cuts the style before anything else, and truncates a frame prompt longer than the budget', async () => {
    const meter = await tokenizer('story-world');
    const styled = composePrompt({ characters: [MIRA], frame: 'waving on the beach', style: { name: 'Night', template: '{prompt} in the night with a black hat and a white cap' } }, meter);
    expect(styled.warnings.map((w) => w.code)).toEqual(['PART_SHORTENED']);
    expect(styled.warnings[0]!.message).toMatch(/^the style "Night" was shortened/);
    expect(styled.prompt.startsWith(`${MIRA.description} waving on the beach`)).toBe(true);
    const long = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'on' : 'beach')).join(' ');
    const cut = composePrompt({ characters: [MIRA], frame: long, style: null }, meter);
    expect(cut.prompt).toBe(long.split(' ').slice(0, 30).join(' '));
    expect(cut.warnings.map((w) => [w.code, w.words.length])).toEqual([['PROMPT_TRUNCATED', 10], ['PART_SHORTENED', MIRA.description.split(' ').length]]);
  });

  it('names the words a word-level tokenizer does not know, once each', async () => {
    const meter = await tokenizer('story-world');
    const { warnings } = composePrompt({ characters: [], frame: 'a zorblax waving on the zorblax beach at dusk', style: null }, meter);
    expect(warnings).toEqual([expect.objectContaining({ code: 'UNKNOWN_WORDS', words: ['zorblax', 'dusk'] })]);
  });

  it('counts BPE tokens for SD packs: 75 of them, and no word is unknown', async () => {
    const meter = await tokenizer('sd15-tiny');
    expect(meter.budget).toBe(75);
    const frame = Array.from({ length: 100 }, () => 'castle').join(' ');
    const { prompt, warnings } = composePrompt({ characters: [MIRA], frame, style: { name: 'Z', template: 'zorblax {prompt}' } }, meter);
    expect(meter.count(prompt)).toBeLessThanOrEqual(75);
    expect(warnings.map((w) => w.code)).toEqual(['PROMPT_TRUNCATED', 'PART_SHORTENED', 'PART_SHORTENED']);
    // What was kept and what the warning says was lost make up the frame's prompt.
    expect(prompt.split(' ').filter((w) => w === 'castle').length + warnings[0]!.words.length).toBe(100);
  });
});
