/**
 * The compute pool on the story-world pack: requests run on worker threads with progress; a
 * thread that dies fails its request with ThreadCrashed and is replaced; a cancelled request
 * stops at its next step.
 */
import { join } from 'node:path';
import { IdentityBank } from '../../src/engine/story/identity-bank';
import { Logger } from '../../src/util/logger';
import { ComputeCancelled, ComputePool, ThreadCrashed } from '../../src/workers/compute/compute-pool';
import { DYING_STEPS } from './dying-compute-thread';

const PACK = join(__dirname, '..', '..', 'models', 'packs', 'story-world');
const settings = { scheduler: 'ddim' as const, steps: 3, guidance: 5 };
const recipe = { prompts: ['a person standing in the city', 'a person walking in the forest'], negativePrompt: '', seeds: [1, 2], rate: 0.5, csaSeed: 1 };

jest.setTimeout(300_000);

describe('compute pool', () => {
  let pool: ComputePool;
  beforeAll(() => {
    pool = new ComputePool({ size: 1, ortThreads: 1, threadModule: join(__dirname, 'dying-compute-thread.ts') }, new Logger('error', {}, () => undefined));
  });
  afterAll(() => pool.close());

  it('builds a bank and renders with it on a thread, reporting progress per step', async () => {
    const steps: number[] = [];
    const built = await pool.run({ op: 'buildBank', packDir: PACK, recipe, settings, judge: true }, (p) => steps.push(p.step));
    if (built.type !== 'bank') throw new Error(built.type);
    // One count over the whole build: story-world writes its identity frames "first" (frame 0,
    // then a bank of it and a read for frame 1) and then the bank from both: 4 runs of 3 steps.
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(IdentityBank.deserialize(built.bank).header).toMatchObject({ steps: 3, scheduler: 'ddim', identityFrames: 2 });
    expect(built.images).toHaveLength(2);
    expect(Object.keys(built.judged![0]!)).toEqual(expect.arrayContaining(['hair', 'skin', 'shirt', 'trousers', 'hat']));
    const rendered = await pool.run({ op: 'render', packDir: PACK, settings, judge: false, banks: [built.bank],
      frames: [{ prompt: 'a person waving on the beach', negativePrompt: '', seed: 3, banks: [0] }, { prompt: 'the city at night', negativePrompt: '', seed: 4, banks: [] }] });
    if (rendered.type !== 'rendered') throw new Error(rendered.type);
    expect(rendered.images.map((i) => [i.width, i.height, i.data.length])).toEqual([[32, 32, 3072], [32, 32, 3072]]);
    expect(rendered.judged).toBeNull();
  });

  it('fails the request of a thread that dies with ThreadCrashed, and replaces the thread', async () => {
    const seen: number[] = [];
    const running = pool.run({ op: 'buildBank', packDir: PACK, recipe, settings: { ...settings, steps: DYING_STEPS }, judge: false }, (p) => seen.push(p.step));
    await expect(running).rejects.toBeInstanceOf(ThreadCrashed);
    expect(seen).toEqual([1]);
    expect(pool.size).toBe(1);
    const again = await pool.run({ op: 'buildBank', packDir: PACK, recipe, settings, judge: false });
    expect(again.type).toBe('bank');
  });

  it('stops a cancelled request at its next step, and the thread serves the next one', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const running = pool.run({ op: 'buildBank', packDir: PACK, recipe, settings: { ...settings, steps: 50 }, judge: false }, (p) => {
      seen.push(p.step);
      if (p.step === 2) controller.abort();
    }, controller.signal);
    await expect(running).rejects.toBeInstanceOf(ComputeCancelled);
    expect(Math.max(...seen)).toBeLessThan(50);
    expect((await pool.run({ op: 'buildBank', packDir: PACK, recipe, settings, judge: false })).type).toBe('bank');
  });
});
