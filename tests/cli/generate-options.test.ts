import { parseGenerateArgs } from '../../src/cli/generate-options';
import { planStory } from '../../src/cli/story-plan';
import { ProgressReporter } from '../../src/cli/progress';
import { parseScript } from '../../src/domain/stories/script-parser';

const base = ['--pack', 'p', '--character', 'a person', '--script', 's.txt', '--out', 'o'];

describe('generate arguments', () => {
  it('reads every option, leaving pack-decided settings undefined', () => {
    expect(parseGenerateArgs(base)).toEqual({ pack: 'p', character: 'a person', script: 's.txt', out: 'o', seed: 1, identityFrames: 2, batch: 4, provider: 'cpu' });
    const all = parseGenerateArgs([...base, '--steps', '12', '--guidance', '0', '--scheduler', 'euler_ancestral', '--seed', '99', '--rate', '.25',
      '--identity-frames', '0', '--batch', '2', '--threads', '3', '--provider', 'cuda']);
    expect(all).toMatchObject({ steps: 12, guidance: 0, scheduler: 'euler_ancestral', seed: 99, rate: 0.25, identityFrames: 0, batch: 2, threads: 3, provider: 'cuda' });
    expect(parseGenerateArgs(['--help'])).toBeNull();
  });

  it.each([
    [['--steps', 'abc'], '--steps must be an integer from 1 to 1000, got "abc"'],
    [['--steps', '2.5'], '--steps must be an integer'],
    [['--steps', '0'], '--steps must be an integer from 1'],
    [['--guidance=-1'], '--guidance must be a number from 0 to 100'],
    [['--guidance', '5x'], '--guidance must be a number'],
    [['--rate', '0'], '--rate must be a number in (0, 1]'],
    [['--seed=-3'], '--seed must be an integer from 0'],
    [['--identity-frames', '9'], '--identity-frames must be an integer from 0 to 8'],
    [['--scheduler', 'pndm'], '--scheduler must be one of ddim, euler_ancestral, dpmpp_2m'],
    [['--provider', 'tpu'], '--provider must be cpu or cuda'],
    [['--step', '3'], "Unknown option '--step'"],
    [['--steps'], "Option '--steps <value>' argument missing"],
  ])('refuses %j', (extra, message) => {
    expect(() => parseGenerateArgs([...base, ...extra])).toThrow(message);
  });

  it('names a missing required option', () => {
    expect(() => parseGenerateArgs(base.slice(2))).toThrow('--character is required'.replace('character', 'pack'));
    expect(() => parseGenerateArgs([...base.slice(0, 2), '--character', '  ', ...base.slice(4)])).toThrow('--character is required');
  });
});

describe('story plan', () => {
  const script = parseScript('standing in the city #One\n[NC] an empty beach #Two\nwalking in the forest\nwaving at night #Four', []);
  const templates = ['{description} standing in the city', '{description} sitting in the snow'];

  it("writes the bank from the pack's identity prompts when it has them; every frame with the character reads it", () => {
    const plan = planStory({ frames: script, character: 'a person with red hair', seed: 10, identityFrames: 3, identityPrompts: templates });
    expect(plan.identitySource).toBe('pack');
    expect(plan.anchor).toEqual({
      prompts: ['a person with red hair standing in the city', 'a person with red hair sitting in the snow', 'a person with red hair standing in the city'],
      seeds: [10, 11, 12], csaSeed: 10, frames: [],
    });
    expect(plan.frames.map((f) => [f.prompt, f.caption, f.seed, f.withCharacter])).toEqual([
      ['a person with red hair standing in the city', 'One', 10, true],
      ['an empty beach', 'Two', 11, false],
      ['a person with red hair walking in the forest', '', 12, true],
      ['a person with red hair waving at night', 'Four', 13, true],
    ]);
  });

  it('uses the first frames with the character when the pack only has the description', () => {
    const plan = planStory({ frames: script, character: 'a person', seed: 0, identityFrames: 2, identityPrompts: ['{description}'] });
    expect(plan.identitySource).toBe('script');
    expect(plan.anchor).toEqual({ prompts: ['a person standing in the city', 'a person walking in the forest'], seeds: [0, 2], csaSeed: 0, frames: [0, 2] });
    // More identity frames than frames with the character: all of them, no more.
    expect(planStory({ frames: script, character: 'a person', seed: 0, identityFrames: 8, identityPrompts: ['{description}'] }).anchor!.frames).toEqual([0, 2, 3]);
  });

  it('makes no bank with --identity-frames 0 or when no frame shows the character', () => {
    expect(planStory({ frames: script, character: 'a', seed: 0, identityFrames: 0, identityPrompts: templates }).anchor).toBeNull();
    const empty = parseScript('[NC] a city\n[NC] a forest', []);
    const plan = planStory({ frames: empty, character: 'a', seed: 0, identityFrames: 2, identityPrompts: templates });
    expect([plan.anchor, plan.identitySource]).toEqual([null, 'none']);
  });
});

describe('progress', () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, stream: { isTTY, columns: 80, write: (t: string) => out.push(t) } };
  };

  it('draws a bar in place on a terminal and ends its line when done', () => {
    const { out, stream } = sink(true);
    const p = new ProgressReporter(stream);
    for (let i = 1; i <= 4; i++) p.update('identity bank', i, 4, 'steps');
    expect(out).toHaveLength(5);
    expect(out.slice(0, 4).every((t) => t.startsWith('\r\x1b[2Kidentity bank '))).toBe(true);
    expect(out[3]).toContain('100% 4/4 steps');
    expect(out[4]).toBe('\n');
  });

  it('prints plain lines, a few per phase, when not a terminal', () => {
    const { out, stream } = sink(false);
    const p = new ProgressReporter(stream);
    for (let i = 1; i <= 25; i++) p.update('identity bank', i, 25, 'steps');
    p.update('frames', 1, 2, 'frames');
    p.update('frames', 2, 2, 'frames');
    expect(out.join('')).not.toContain('\r');
    expect(out.every((t) => t.endsWith('\n'))).toBe(true);
    expect(out.filter((t) => t.startsWith('identity bank')).length).toBeLessThanOrEqual(6);
    expect(out).toContain('identity bank: 25/25 steps (100%)\n');
    expect(out.slice(-2)).toEqual(['frames: 1/2 frames (50%)\n', 'frames: 2/2 frames (100%)\n']);
  });
});
