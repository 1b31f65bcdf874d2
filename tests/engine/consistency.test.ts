/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * bench/consistency in small: the model card's table from the TypeScript engine and the
 * pack's judge, on 3 stories with few steps. Checks the pipeline, not the model's quality (the
 * committed pack does not reach the identity target: see its model card): the stories are
 * evaluate.py's, every number is computed and in [0, 1], and the read phase really reads the bank.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoryEngine } from '../../src/engine/story-engine';
import { evaluateRow, RowResult, tableLine } from '../../bench/consistency/evaluate';
import { loadStorySpecs } from '../../bench/consistency/story-specs';

const PACK = join(__dirname, '../../models/packs/story-world');
const specs = loadStorySpecs();
const options = { stories: 3, steps: 3, guidance: specs.defaults.guidance, rate: specs.defaults.rate, idFrames: specs.defaults.id_frames, keepRuns: true };
let engine: StoryEngine;
const results: Record<string, RowResult> = {};

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

beforeAll(async () => {
  engine = await StoryEngine.open(PACK, { judge: true, runtime: { intraOpThreads: 1 } });
  for (const row of ['none', 'identity', 'read', 'named-read']) results[row] = await evaluateRow(engine, specs, row, options);
}, 300_000);

afterAll(async () => {
  await engine?.dispose();
});

describe("the model card's stories (recorded from evaluate.py)", () => {
  const world = JSON.parse(readFileSync(join(PACK, 'world.json'), 'utf8')) as { scene_phrases: Record<string, string> };

  it('has evaluate.py defaults and its stories: seeds, prompts and what each frame asks', () => {
    expect(specs.defaults).toMatchObject({ stories: 50, steps: 25, guidance: 5, rate: 0.5, id_frames: 2, rows: 'none,identity,read,named-none,named-read' });
    for (const named of [0, 2]) {
      const stories = specs.sets[String(named)]!;
      expect(stories).toHaveLength(50);
      stories.forEach((frames, k) => {
        expect(frames.map((f) => f.seed)).toEqual([0, 1, 2, 3, 4, 5].map((i) => 10_000 * (k + 1) + i));
        for (const f of frames) {
          expect(f.prompt.endsWith(` ${f.asked.pose} ${world.scene_phrases[f.asked.scene!]}`)).toBe(true);
          expect(Object.keys(f.asked)).toHaveLength(2 + named);
        }
        // One character per story: the description part is the same in every frame.
        expect(new Set(frames.map((f) => f.prompt.split(` ${f.asked.pose} `)[0])).size).toBe(1);
      });
    }
    expect(specs.sets['2']![0]![0]!.prompt).toMatch(/^a person with .+ and .+ (standing|walking|jumping|sitting|waving) /);
  });
});

describe('the table from the TypeScript engine', () => {
  it('computes every figure, each in [0, 1], and prints lines as evaluate.py does', () => {
    for (const [row, r] of Object.entries(results)) {
      expect(r.stories).toHaveLength(3);
      for (const s of [r.scores, ...r.stories.map((x) => x.scores)]) {
        expect(s).toHaveLength(4);
        for (const v of s) expect(v >= 0 && v <= 1).toBe(true);
      }
      expect(tableLine(row, r.scores)).toMatch(new RegExp(`^\\| ${row}( \\| [01]\\.\\d{3}){4} \\|$`));
      // Agreement over 15 pairs and adherence over 6 frames: multiples of 1/15 and 1/6.
      const [attr, all, ps, full] = r.stories[0]!.scores;
      expect(Math.abs(all * 15 - Math.round(all * 15))).toBeLessThan(1e-9);
      expect(Math.abs(ps * 6 - Math.round(ps * 6))).toBeLessThan(1e-9);
      expect(full).toBeLessThanOrEqual(ps);
      expect(all).toBeLessThanOrEqual(attr + 1e-12);
    }
  });

  it('writes all six frames in the identity row and two in the read row', () => {
    for (const story of results.identity!.stories) expect(story.run!.bank!.header.identityFrames).toBe(6);
    for (const story of results.read!.stories) {
      expect(story.run!.bank!.header.identityFrames).toBe(2);
      expect(story.run!.readers).toEqual([2, 3, 4, 5]);
    }
    expect(results.none!.stories.every((s) => s.run!.bank === null && s.run!.pixels.dims[0] === 6)).toBe(true);
  });

  it('renders the read-phase frames from the bank: the same with it, different without it', async () => {
    const story = results.read!.stories[0]!.run!;
    const frames = specs.sets['0']![0]!;
    const settings = { scheduler: 'ddim' as const, steps: options.steps, guidance: options.guidance };
    const per = story.pixels.data.length / 6;
    const ours = (i: number) => story.pixels.data.subarray(i * per, (i + 1) * per);
    const request = (i: number, withBank: boolean) => ({ prompt: frames[i]!.prompt, negativePrompt: '', seed: frames[i]!.seed, banks: withBank ? [story.bank!] : [] });
    const withBank = await engine.render(story.readers.map((i) => request(i, true)), settings);
    const without = await engine.render(story.readers.map((i) => request(i, false)), settings);
    story.readers.forEach((frame, k) => {
      expect(maxAbsDiff(withBank.pixels[k]!.data, ours(frame))).toBe(0);
      expect(maxAbsDiff(without.pixels[k]!.data, ours(frame))).toBeGreaterThan(1e-3);
    });
    // And the plain row's frame is the one without the bank.
    expect(maxAbsDiff(results.none!.stories[0]!.run!.pixels.data.subarray(2 * per, 3 * per), without.pixels[0]!.data)).toBeLessThan(1e-5);
  });
});
