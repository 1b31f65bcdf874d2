/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * The embedded model's targets, asserted: bench/consistency in small (fixed seed, 8 stories of
 * 6 frames, the pack's own settings) on the committed pack, each row at 0.1 below the target
 * of the embedded-model issue (the model card has the full 50-story table). Also: the stories
 * are evaluate.py's (the parity fixture records a few), every figure is computed, and each CSA
 * row really reads its bank.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoryEngine } from '../../src/engine/story-engine';
import { ROWS, Row, RowResult, TARGETS, evaluateRow, tableLine } from '../../bench/consistency/evaluate';
import { FRAMES, ReferenceSet, World, caption, loadReferenceSet, loadWorld, storySpecs } from '../../bench/consistency/story-specs';

const ROOT = join(__dirname, '../..');
const PACK = join(ROOT, 'models/packs/story-world');
const SEED = 11;
const STORIES = 8;
const MARGIN = 0.1;

let engine: StoryEngine;
let world: World;
let refs: ReferenceSet;
const results = {} as Record<Row, RowResult>;

beforeAll(async () => {
  engine = await StoryEngine.open(PACK, { judge: true, runtime: { intraOpThreads: 1 } });
  world = loadWorld(PACK);
  refs = await loadReferenceSet();
  const m = engine.manifest;
  const options = { steps: m.defaults.steps, guidance: m.defaults.guidance, rate: m.csa!.defaultRate, fraction: m.csa!.referenceNoise, identityGuidance: m.csa!.identityGuidance, keepRuns: true };
  const stories = storySpecs(world, SEED, STORIES, refs.identities.length);
  for (const row of ROWS) {
    results[row] = await evaluateRow(engine, world, refs, stories, row, options);
    process.stdout.write(`${tableLine(row, results[row].scores)}\n`);
  }
}, 900_000);

afterAll(async () => {
  await engine?.dispose();
});

describe('the stories', () => {
  interface Fx { stories: { seed: number; references: number; specs: Array<{ reference: number; csa_seed: number; frames: Array<{ pose: string; scene: string; seed: number }> }>; named_captions: string[] } }
  const fx = (JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/story-world/reference.json'), 'utf8')) as Fx).stories;

  it('are drawn from a seed exactly as evaluate.py draws them, captions included', () => {
    const ours = storySpecs(world, fx.seed, fx.specs.length, fx.references);
    expect(ours.map((s) => ({ reference: s.reference, csa_seed: s.csaSeed, frames: s.frames }))).toEqual(fx.specs);
    const first = ours[0]!;
    expect(first.frames.map((f) => caption(world, refs.identities[first.reference]!, true, f.pose, f.scene))).toEqual(fx.named_captions);
  });

  it('differ from seed to seed and use the whole reference set', () => {
    const a = storySpecs(world, 1, 40, refs.identities.length);
    const b = storySpecs(world, 2, 40, refs.identities.length);
    expect(a).not.toEqual(b);
    expect(new Set(a.map((s) => s.reference)).size).toBeGreaterThan(30);
    expect(a.every((s) => s.frames.length === FRAMES)).toBe(true);
  });
});

describe('the targets, at 0.1 below', () => {
  it.each(ROWS)('%s: pose and scene as asked', (row) => {
    expect(results[row].scores[2]).toBeGreaterThanOrEqual(TARGETS[row].poseScene - MARGIN);
  });

  it('named, no CSA: frames with every named attribute, pose and scene as asked', () => {
    expect(results['named-none'].scores[3]).toBeGreaterThanOrEqual(TARGETS['named-none'].full! - MARGIN);
  });

  // The identity phase's target is for the way the product writes it (the pack's
  // csa.identity_write, the better of the two measured, first frame at csa.identity_guidance).
  // The model card's 50 stories read 0.764 for the committed pack: 0.1 below the target holds,
  // the target itself (0.8) is not reached yet.
  it("identity phase (the pack's write mode): all five attributes kept over frame pairs", () => {
    const row = engine.manifest.csa!.identityWrite;
    expect(results[row].scores[1]).toBeGreaterThanOrEqual(TARGETS[row].identityAll! - MARGIN);
  });

  it('reference bank: all five attributes as in the references', () => {
    expect(results.reference.scores[1]).toBeGreaterThanOrEqual(TARGETS.reference.identityAll! - MARGIN);
  });

  it('no CSA: pair agreement far below what CSA gives (near chance)', () => {
    const best = Math.max(results.joint.scores[1], results.first.scores[1]);
    expect(results.none.scores[1]).toBeLessThan(best - 0.3);
  });
});

describe('the bench', () => {
  it('computes every figure in [0, 1] from the right number of frames and pairs', () => {
    for (const row of ROWS) {
      const r = results[row];
      expect(r.stories).toHaveLength(STORIES);
      for (const { scores } of r.stories) {
        for (const v of scores) expect(v >= 0 && v <= 1).toBe(true);
        // Pairs: 15 over 6 frames; matches: 6 frames; pose+scene: 6 frames.
        const denominators = row === 'named-none' || row === 'reference' ? 6 : 15;
        expect(Math.abs(scores[1] * denominators - Math.round(scores[1] * denominators))).toBeLessThan(1e-9);
        expect(Math.abs(scores[2] * 6 - Math.round(scores[2] * 6))).toBeLessThan(1e-9);
        expect(scores[1]).toBeLessThanOrEqual(scores[0] + 1e-12);
      }
    }
  });

  it('each CSA row reads its bank: the frames change without it', async () => {
    const stories = storySpecs(world, SEED, 1, refs.identities.length);
    const story = stories[0]!;
    const settings = { scheduler: 'ddim' as const, steps: engine.manifest.defaults.steps, guidance: engine.manifest.defaults.guidance };
    const plain = results.none.stories[0]!.run!.pixels;
    for (const row of ['joint', 'reference'] as const) {
      const run = results[row].stories[0]!.run!;
      expect(run.bank).not.toBeNull();
      const from = row === 'reference' ? 0 : 2;
      expect(run.bank!.header.identityFrames).toBe(2);
      const per = plain.data.length / FRAMES;
      let diff = 0;
      for (let i = from * per; i < plain.data.length; i++) diff = Math.max(diff, Math.abs(plain.data[i]! - run.pixels.data[i]!));
      expect(diff).toBeGreaterThan(0.05);
      // Rendering the same frame again with the bank gives the same picture (deterministic).
      const f = story.frames[from]!;
      const again = await engine.render([{ prompt: caption(world, refs.identities[story.reference]!, false, f.pose, f.scene), negativePrompt: '', seed: f.seed, banks: [run.bank!] }], settings);
      const ours = run.pixels.data.subarray(from * per, (from + 1) * per);
      let same = 0;
      for (let i = 0; i < per; i++) same = Math.max(same, Math.abs(again.pixels[0]!.data[i]! - ours[i]!));
      expect(same).toBe(0);
    }
  });
});
