import { GENERATE_USAGE, parseCharacter, parseGenerateArgs, parseSize } from '../../src/cli/generate-options';
import { ScriptError, planStory } from '../../src/cli/story-plan';
import { ProgressReporter } from '../../src/cli/progress';

const base = ['--pack', 'p', '--character', 'a person', '--script', 's.txt', '--out', 'o'];

describe('generate arguments', () => {
  it('reads every option, leaving pack-decided settings undefined', () => {
    expect(parseGenerateArgs(base)).toEqual({ pack: 'p', characters: [{ name: null, description: 'a person' }], script: 's.txt', out: 'o',
      seed: 1, identityFrames: 2, batch: 4, provider: 'cpu', negative: '' });
    const all = parseGenerateArgs([...base, '--steps', '12', '--guidance', '0', '--scheduler', 'euler_ancestral', '--seed', '99', '--rate', '.25',
      '--identity-frames', '0', '--batch', '2', '--threads', '3', '--provider', 'cuda', '--negative', ' blurry, text ', '--style', 'film NOIR',
      '--size', '512x768']);
    expect(all).toMatchObject({ steps: 12, guidance: 0, scheduler: 'euler_ancestral', seed: 99, rate: 0.25, identityFrames: 0, batch: 2, threads: 3,
      provider: 'cuda', negative: 'blurry, text', style: 'Film noir', size: { width: 512, height: 768 } });
    expect(parseGenerateArgs(['--help'])).toBeNull();
    expect(GENERATE_USAGE).toContain('--character <text>    a character: NAME=DESCRIPTION');
  });

  it('takes several named characters, in the order given', () => {
    const options = parseGenerateArgs(['--pack', 'p', '--character', 'Mira=a girl with red hair', '--script', 's', '--out', 'o',
      '--character', ' Old Tom = a man = tall ']);
    expect(options!.characters).toEqual([{ name: 'Mira', description: 'a girl with red hair' }, { name: 'Old Tom', description: 'a man = tall' }]);
    // One named character alone is fine too.
    expect(parseGenerateArgs([...base.slice(0, 2), '--character', 'Bo=a boy', ...base.slice(4)])!.characters).toEqual([{ name: 'Bo', description: 'a boy' }]);
  });

  it.each([
    ['=a girl', 'the name before = is empty'],
    ['Mira=', 'Mira has no description after ='],
    ['Mi[ra=a girl', 'a name cannot hold [, ], # or ='],
    ['nc=a girl', 'NC is reserved'],
    [`${'x'.repeat(41)}=a girl`, 'a name is at most 40 characters'],
  ])('refuses the character %j', (text, message) => {
    expect(() => parseCharacter(text)).toThrow(message);
    expect(() => parseGenerateArgs([...base, '--character', 'Z=z', '--character', text])).toThrow(message);
  });

  it('refuses an unnamed character among several, and a name given twice', () => {
    expect(() => parseGenerateArgs([...base, '--character', 'Mira=a girl'])).toThrow('with several characters each needs a name: --character "NAME=a person"');
    expect(() => parseGenerateArgs(['--pack', 'p', '--script', 's', '--out', 'o', '--character', 'Mira=a girl', '--character', 'MIRA=a boy']))
      .toThrow('--character MIRA is given twice');
  });

  it('reads sizes as WIDTHxHEIGHT', () => {
    expect(parseSize('64x32')).toEqual({ width: 64, height: 32 });
    expect(parseSize(' 1024 X 768 ')).toEqual({ width: 1024, height: 768 });
    for (const bad of ['512', '512x', 'x512', '0x64', '64x0', '-64x64', '64.5x64', 'axb', '512x512x3']) {
      expect(() => parseSize(bad)).toThrow(`--size must be WIDTHxHEIGHT in pixels, e.g. 512x512, got "${bad}"`);
    }
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
    [['--style', 'Watercolour'], '--style must be one of "No style", "Japanese anime", "Cinematic"'],
    [['--size', '512by512'], '--size must be WIDTHxHEIGHT in pixels'],
    [['--step', '3'], "Unknown option '--step'"],
    [['--steps'], "Option '--steps <value>' argument missing"],
    [['--negative'], "Option '--negative <value>' argument missing"],
    [['--character'], "Option '--character <value>' argument missing"],
  ])('refuses %j', (extra, message) => {
    expect(() => parseGenerateArgs([...base, ...extra])).toThrow(message);
  });

  it('names a missing required option', () => {
    expect(() => parseGenerateArgs(base.slice(2))).toThrow('--pack is required');
    expect(() => parseGenerateArgs([...base.slice(0, 2), ...base.slice(4)])).toThrow('--character is required');
    expect(() => parseGenerateArgs([...base.slice(0, 2), '--character', '  ', ...base.slice(4)])).toThrow('--character is empty');
  });
});

describe('story plan', () => {
  const script = 'standing in the city #One\n[NC] an empty beach #Two\n\nwalking in the forest\nwaving at night #Four # more';
  const templates = ['{description} standing in the city', '{description} sitting in the snow'];
  const one = [{ name: null, description: 'a person with red hair' }];
  const two = [{ name: 'Mira', description: 'a person with red hair' }, { name: 'Leo', description: 'a person with blue hair' }];

  it("writes the bank from the pack's identity prompts when it has them; every frame with the character reads it", () => {
    const plan = planStory({ script, cast: one, seed: 10, identityFrames: 3, identityPrompts: templates });
    expect(plan.anchors).toEqual([{
      character: 0, source: 'pack', seeds: [10, 11, 12], csaSeed: 10, frames: [],
      prompts: ['a person with red hair standing in the city', 'a person with red hair sitting in the snow', 'a person with red hair standing in the city'],
    }]);
    expect(plan.frames.map((f) => [f.prompt, f.caption, f.seed, f.cast, f.line])).toEqual([
      ['a person with red hair standing in the city', 'One', 10, [0], 1],
      ['an empty beach', 'Two', 11, [], 2],
      ['a person with red hair walking in the forest', '', 12, [0], 4],
      ['a person with red hair waving at night', 'Four # more', 13, [0], 5],
    ]);
  });

  it('uses the first frames with the character when the pack only has the description', () => {
    const plan = planStory({ script, cast: [{ name: null, description: 'a person' }], seed: 0, identityFrames: 2, identityPrompts: ['{description}'] });
    expect(plan.anchors).toEqual([{ character: 0, source: 'script', prompts: ['a person standing in the city', 'a person walking in the forest'],
      seeds: [0, 2], csaSeed: 0, frames: [0, 2] }]);
    // More identity frames than frames with the character: all of them, no more.
    expect(planStory({ script, cast: one, seed: 0, identityFrames: 8, identityPrompts: ['{description}'] }).anchors[0]!.frames).toEqual([0, 2, 3]);
  });

  it('makes no bank with --identity-frames 0 or when no frame shows the character', () => {
    expect(planStory({ script, cast: one, seed: 0, identityFrames: 0, identityPrompts: templates }).anchors).toEqual([]);
    const plan = planStory({ script: '[NC] a city\n[NC] a forest', cast: one, seed: 0, identityFrames: 2, identityPrompts: templates });
    expect(plan.anchors).toEqual([]);
    expect(plan.frames.map((f) => f.cast)).toEqual([[], []]);
  });

  it('puts [Name] tags in place as descriptions, every description in front of an untagged frame, one bank per character', () => {
    const story = '[Leo] waving on the beach #L\n[mira] and [LEO] standing in the city #Both\nsitting in the snow #All\n[NC] the desert #None\n[Mira] jumping in the desert';
    const plan = planStory({ script: story, cast: two, seed: 5, identityFrames: 2, identityPrompts: templates });
    expect(plan.frames.map((f) => [f.prompt, f.cast, f.seed])).toEqual([
      ['a person with blue hair waving on the beach', [1], 5],
      ['a person with red hair and a person with blue hair standing in the city', [0, 1], 6],
      ['a person with red hair and a person with blue hair sitting in the snow', [0, 1], 7],
      ['the desert', [], 8],
      ['a person with red hair jumping in the desert', [0], 9],
    ]);
    // Each character its own bank: its description in the templates, seeds of its own, CSA seed + its position.
    expect(plan.anchors).toEqual([
      { character: 0, source: 'pack', csaSeed: 5, seeds: [5, 6], frames: [],
        prompts: ['a person with red hair standing in the city', 'a person with red hair sitting in the snow'] },
      { character: 1, source: 'pack', csaSeed: 6, seeds: [7, 8], frames: [],
        prompts: ['a person with blue hair standing in the city', 'a person with blue hair sitting in the snow'] },
    ]);
    // From the script: only frames where the character is alone write its bank; one never alone uses its description.
    const fromScript = planStory({ script: story, cast: [...two, { name: 'Ann', description: 'a person with pink hair' }], seed: 5, identityFrames: 2,
      identityPrompts: ['{description}'] });
    expect(fromScript.anchors).toEqual([
      { character: 0, source: 'script', prompts: ['a person with red hair jumping in the desert'], seeds: [9], csaSeed: 5, frames: [4] },
      { character: 1, source: 'script', prompts: ['a person with blue hair waving on the beach'], seeds: [5], csaSeed: 6, frames: [0] },
      { character: 2, source: 'description', prompts: ['a person with pink hair', 'a person with pink hair'], seeds: [9, 10], csaSeed: 7, frames: [] },
    ]);
  });

  it('wraps every prompt in the style template', () => {
    const plan = planStory({ script: '[Mira] waving #x\n[NC] a city', cast: two, seed: 0, identityFrames: 1, identityPrompts: templates,
      styleTemplate: 'comic panel of {prompt}, bold ink' });
    expect(plan.frames.map((f) => f.prompt)).toEqual(['comic panel of a person with red hair waving, bold ink', 'comic panel of a city, bold ink']);
    expect(plan.anchors[0]!.prompts).toEqual(['comic panel of a person with red hair standing in the city, bold ink']);
    // Leo is in no frame: no bank for him.
    expect(plan.anchors.map((a) => a.character)).toEqual([0]);
  });

  it.each([
    ['one\n[Bo] two', two, 'line 2: [Bo] is not one of the characters (Mira, Leo); tag frames with their names or [NC]', 2],
    ['one\n\n[Mira] two', [{ name: null, description: 'a' }], 'line 3: [Mira] names no character: give characters as --character "Mira=<description>", or mark the frame [NC]', 3],
    ['[NC] [Mira] x', two, 'line 1: [NC] cannot be combined with character names', 1],
    ['ok\n[] x', two, 'line 2: empty [] tag', 2],
  ])('refuses the script %j naming the line', (text, cast, message, line) => {
    let error: unknown;
    try {
      planStory({ script: text, cast, seed: 0, identityFrames: 2, identityPrompts: templates });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ScriptError);
    expect((error as ScriptError).message).toBe(message);
    expect((error as ScriptError).line).toBe(line);
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

  it('names each phase on its own line and never draws a bar going backwards', () => {
    const { out, stream } = sink(true);
    const p = new ProgressReporter(stream);
    p.phase('identity bank of Mira (1/2)', 0.5, 'step 4/8');
    p.phase('identity bank of Mira (1/2)', 1, 'step 8/8');
    p.phase('identity bank of Leo (2/2)', 0.25, 'step 2/8');
    p.phase('render', 0.6, 'frames 1-4/6, step 4/4');
    p.phase('render', 0.4, 'frame 5/6, step 1/4'); // a late report of less
    p.phase('render', 1, 'frame 6/6, step 4/4');
    const percent = (t: string) => Number(/(\d+)% /.exec(t)![1]);
    const draws = out.filter((t) => t.startsWith('\r'));
    expect(draws.map(percent)).toEqual([50, 100, 25, 60, 60, 100]);
    expect(draws[1]).toMatch(/^\r\x1b\[2Kidentity bank of Mira \(1\/2\) █+ 100% step 8\/8$/);
    expect(draws[4]).toContain('frame 5/6, step 1/4');
    // Each phase ends its line: a new label starts on a fresh one.
    expect(out.join('').split('\n').map((l) => l.split('\r').pop()!.replace('\x1b[2K', '').split(' ')[0])).toEqual(['identity', 'identity', 'render', '']);
  });

  it('prints plain lines, a few per phase, when not a terminal', () => {
    const { out, stream } = sink(false);
    const p = new ProgressReporter(stream);
    for (let i = 1; i <= 25; i++) p.update('identity bank', i, 25, 'steps');
    p.update('frames', 1, 2, 'frames');
    p.update('frames', 2, 2, 'frames');
    p.update('frames', 2, 2, 'frames'); // the end once
    p.phase('render', 0.5, 'frames 1-2/4, step 4/4');
    p.phase('render', 0.3, 'frame 3/4, step 1/4');
    p.phase('render', 1, 'frame 4/4, step 4/4');
    expect(out.join('')).not.toContain('\r');
    expect(out.every((t) => t.endsWith('\n'))).toBe(true);
    expect(out.filter((t) => t.startsWith('identity bank')).length).toBeLessThanOrEqual(6);
    expect(out).toContain('identity bank: 25/25 steps (100%)\n');
    expect(out.filter((t) => t.startsWith('frames'))).toEqual(['frames: 1/2 frames (50%)\n', 'frames: 2/2 frames (100%)\n']);
    expect(out.slice(-2)).toEqual(['render: frames 1-2/4, step 4/4 (50%)\n', 'render: frame 4/4, step 4/4 (100%)\n']);
  });
});
