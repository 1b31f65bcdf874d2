/**
 * `storyforge generate` end to end: the real command in a child process (TypeScript run by the
 * project's SWC register hook, as other process tests do), the real pack, ONNX Runtime and
 * sharp. Stdout/stderr are pipes here, so progress comes as plain lines.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const ROOT = join(__dirname, '../..');
const PACK = 'models/packs/story-world';
// Made when the file loads: the table of bad inputs below names files in it.
const dir = mkdtempSync(join(tmpdir(), 'sf-generate-'));

interface Run { code: number; stdout: string; stderr: string }

function run(command: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, command, { cwd: ROOT },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

/** The sources, run directly. */
const storyforge = (args: string[]) => run(['-r', './tests/support/ts-register.cjs', 'src/cli/storyforge.ts', ...args]);
/** The installed command (package.json "bin"): builds dist/ first when it is missing or stale. */
const installed = (args: string[]) => run(['bin/storyforge.js', ...args]);

beforeAll(() => {
  writeFileSync(join(dir, 'story.txt'), [
    'standing in the city #Morning in town.',
    '',
    '[NC] the beach at night #Nobody is here.',
    'waving on the beach #Hello!',
  ].join('\n'));
  writeFileSync(join(dir, 'bad.txt'), 'one frame\n[NC] [Bo] two');
  writeFileSync(join(dir, 'unbalanced.txt'), 'one frame\nin [the city');
  writeFileSync(join(dir, 'unknown-tag.txt'), '[Mira] one frame\n\n[Bo] two');
  writeFileSync(join(dir, 'two.txt'), [
    '[Mira] standing in the city #Mira alone',
    '[Leo] walking in the forest #Leo alone',
    '[Mira] and [Leo] waving on the beach #Both',
    'sitting in the snow #Everyone',
    '[NC] the desert at night #Nobody',
  ].join('\n'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const fast = ['--steps', '2', '--threads', '1', '--seed', '5', '--identity-frames', '2'];

it('writes frame PNGs at the pack upscale, a contact sheet and the settings, the same bytes twice', async () => {
  const args = ['generate', '--pack', PACK, '--character', 'a person with red hair', '--script', join(dir, 'story.txt'), ...fast];
  const first = await storyforge([...args, '--out', join(dir, 'out1')]);
  expect(first.stderr).not.toContain('\r');
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('wrote 3 frames, contact-sheet.png and story.json');
  // The whole bank build in one count, whatever the pack's identity write mode makes of it.
  expect(first.stderr).toMatch(/identity bank: step (\d+)\/\1 \(100%\)/);
  // Frames 1 and 3 read the bank together, then the [NC] frame alone.
  expect(first.stderr).toMatch(/render: frames 1,3\/3, step 2\/2 \(66%\)\n(render: frame 2\/3, step 1\/2 \(83%\)\n)?render: frame 2\/3, step 2\/2 \(100%\)\n/);

  const out = join(dir, 'out1');
  expect(readdirSync(out).sort()).toEqual(['contact-sheet.png', 'frame-01.png', 'frame-02.png', 'frame-03.png', 'identity-1.png', 'identity-2.png', 'story.json']);
  const meta = await sharp(join(out, 'frame-01.png')).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256]);
  const sheet = await sharp(join(out, 'contact-sheet.png')).metadata();
  expect(sheet.width).toBeGreaterThan(3 * 256);

  const record = JSON.parse(readFileSync(join(out, 'story.json'), 'utf8'));
  expect(record.settings).toEqual({ scheduler: 'ddim', steps: 2, guidance: JSON.parse(readFileSync(join(__dirname, '../../models/packs/story-world/manifest.json'), 'utf8')).defaults.guidance });
  expect(record.characters).toEqual([{ name: null, description: 'a person with red hair', identity: expect.objectContaining({
    source: 'pack', seeds: [5, 6], csaSeed: 5, files: ['identity-1.png', 'identity-2.png'], frames: [] }) }]);
  expect(record.frames.map((f: { prompt: string; seed: number; characters: string[] }) => [f.prompt, f.seed, f.characters])).toEqual([
    ['a person with red hair standing in the city', 5, [null]],
    ['the beach at night', 6, []],
    ['a person with red hair waving on the beach', 7, [null]],
  ]);
  expect([record.style, record.negative, record.size, record.upscale]).toEqual([null, '', { width: 256, height: 256 }, 8]);

  const second = await storyforge([...args, '--out', join(dir, 'out2')]);
  expect(second.code).toBe(0);
  for (const f of ['frame-01.png', 'frame-03.png', 'contact-sheet.png']) {
    expect(readFileSync(join(dir, 'out2', f)).equals(readFileSync(join(out, f)))).toBe(true);
  }
}, 240_000);

it("takes the identity frames from the script when the pack's identity prompts are only the description", async () => {
  // The same pack with the manifest's identity prompts removed (the files are linked, not copied).
  const pack = join(dir, 'pack-without-identity-prompts');
  mkdirSync(pack);
  const manifest = JSON.parse(readFileSync(join(ROOT, PACK, 'manifest.json'), 'utf8'));
  delete manifest.defaults.identity_prompts;
  writeFileSync(join(pack, 'manifest.json'), JSON.stringify(manifest));
  for (const f of Object.values(manifest.files) as string[]) symlinkSync(join(ROOT, PACK, f), join(pack, f));

  const run = await storyforge(['generate', '--pack', pack, '--character', 'a person with red hair', '--script', join(dir, 'story.txt'),
    '--out', join(dir, 'out3'), ...fast]);
  expect(run.code).toBe(0);
  expect(run.stderr).toContain('identity bank from 2 frames (the first frames of the script)');
  expect(readdirSync(join(dir, 'out3')).filter((f) => f.startsWith('identity-'))).toEqual([]);
  const record = JSON.parse(readFileSync(join(dir, 'out3', 'story.json'), 'utf8'));
  expect(record.characters[0].identity).toMatchObject({ source: 'script', seeds: [5, 7], frames: ['frame-01.png', 'frame-03.png'],
    prompts: ['a person with red hair standing in the city', 'a person with red hair waving on the beach'], files: [] });
}, 120_000);

describe('bad input exits with status 2 and one clear message', () => {
  const ok = ['generate', '--pack', PACK, '--character', 'a person', '--script', '', '--out', ''];
  const withArgs = (edit: (a: string[]) => void) => {
    const a = [...ok];
    a[6] = join(dir, 'story.txt');
    a[8] = join(dir, 'bad-out');
    edit(a);
    return a;
  };

  it.each([
    ['an unknown pack', withArgs((a) => { a[2] = 'no-such-pack'; }), 'unknown pack "no-such-pack": no such folder; packs in models/packs:'],
    ['a folder that is not a pack', withArgs((a) => { a[2] = 'models'; }), 'no manifest.json'],
    ['an unreadable script', withArgs((a) => { a[6] = join(dir, 'missing.txt'); }), 'cannot read the script'],
    ['a script that does not parse', withArgs((a) => { a[6] = join(dir, 'unbalanced.txt'); }),
      'unbalanced.txt: line 2: unbalanced [ or ]\n(see: storyforge generate --help)'],
    ['a tag in a script for one unnamed character', withArgs((a) => { a[6] = join(dir, 'bad.txt'); }), 'bad.txt: line 2: [Bo] names no character'],
    ['a tag for no character (one unnamed)', withArgs((a) => { a[6] = join(dir, 'unknown-tag.txt'); }),
      'unknown-tag.txt: line 1: [Mira] names no character: give characters as --character "Mira=<description>", or mark the frame [NC]'],
    ['a tag for no character (named ones)', withArgs((a) => { a[4] = 'Mira=a person'; a.push('--character', 'Leo=a person'); a[6] = join(dir, 'unknown-tag.txt'); }),
      'unknown-tag.txt: line 3: [Bo] is not one of the characters (Mira, Leo); tag frames with their names or [NC]'],
    ['a size the pack does not render', withArgs((a) => { a.push('--size', '100x100'); }),
      '--size 100x100 is not a size pack story-world renders; it takes 32x32 times a whole display upscale (32x32, 64x64, 96x96, 128x128, ...)'],
    ['a size that is not WxH', withArgs((a) => { a.push('--size', '128'); }), '--size must be WIDTHxHEIGHT in pixels, e.g. 512x512, got "128"'],
    ['an unknown style', withArgs((a) => { a.push('--style', 'Pastel'); }), '--style must be one of "No style", "Japanese anime"'],
    ['an unnamed character among several', withArgs((a) => { a.push('--character', 'Leo=a person'); }), 'with several characters each needs a name'],
    ['a bad number', withArgs((a) => { a.push('--steps', 'many'); }), '--steps must be an integer from 1 to 1000, got "many"'],
    ['a missing option', ['generate', '--pack', PACK], '--character is required'],
  ])('%s', async (_name, args, message) => {
    const run = await storyforge(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^\n?storyforge generate: /);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('an unknown command', async () => {
    const run = await storyforge(['genrate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('generate  render a story script');
  }, 60_000);
});

describe('the installed command (bin/storyforge.js)', () => {
  it('prints the usage with --help and exits 0', async () => {
    // The first call may build dist/ (the whole project with tsc): give it time.
    const help = await installed(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: storyforge <command>\n/);
    expect(help.stdout).toContain('generate  render a story script with consistent characters');
    const generateHelp = await installed(['generate', '--help']);
    expect(generateHelp.code).toBe(0);
    expect(generateHelp.stderr).toBe(''); // built above when it had to be: not again
    expect(generateHelp.stdout).toContain('--character <text>    a character: NAME=DESCRIPTION');
    const unknown = await installed(['genrate']);
    expect(unknown.code).toBe(2);
  }, 600_000);

  it('renders two characters, each with its own identity bank, at a chosen size', async () => {
    const out = join(dir, 'two');
    const run = await installed(['generate', '--pack', PACK, '--character', 'Mira=a person with red hair', '--script', join(dir, 'two.txt'),
      '--character', 'Leo=a person with blue hair and green shirt', '--out', out, '--steps', '4', '--threads', '1', '--seed', '5',
      '--negative', 'blurry', '--style', 'Comic book', '--size', '128x128']);
    expect(run.stderr).not.toContain('\r');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('wrote 5 frames, contact-sheet.png and story.json');
    expect(run.stderr).toContain('warning: the style "Comic book" is written for sd15, sdxl models; it has no effect on pack story-world (story-world)');
    expect(run.stderr).toContain('story-world: 5 frames, 2 characters, 4 ddim steps');
    // Each character's identity phase has its own label, the render phase says which frames and step.
    expect(run.stderr).toMatch(/identity bank of Mira \(1\/2\): step (\d+)\/\1 \(100%\)/);
    expect(run.stderr).toMatch(/identity bank of Leo \(2\/2\): step (\d+)\/\1 \(100%\)/);
    expect(run.stderr).toContain('render: frames 3-4/5, step 4/4');
    expect(run.stderr).toMatch(/render: frame 5\/5, step 4\/4 \(100%\)/);
    // Plain progress never goes backwards within a phase.
    const byPhase = new Map<string, number[]>();
    for (const [, phase, percent] of run.stderr.matchAll(/^(identity bank of \w+ \(\d\/2\)|render): .* \((\d+)%\)$/gm)) {
      byPhase.set(phase!, [...(byPhase.get(phase!) ?? []), Number(percent)]);
    }
    expect([...byPhase.keys()]).toEqual(['identity bank of Mira (1/2)', 'identity bank of Leo (2/2)', 'render']);
    for (const percents of byPhase.values()) expect(percents).toEqual([...percents].sort((a, b) => a - b));

    expect(readdirSync(out).sort()).toEqual(['contact-sheet.png', 'frame-01.png', 'frame-02.png', 'frame-03.png', 'frame-04.png', 'frame-05.png',
      'identity-leo-1.png', 'identity-leo-2.png', 'identity-mira-1.png', 'identity-mira-2.png', 'story.json']);
    for (const f of ['frame-01.png', 'frame-05.png', 'identity-leo-2.png']) {
      const meta = await sharp(join(out, f)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 128, 128]);
    }
    const sheet = await sharp(join(out, 'contact-sheet.png')).metadata();
    expect(sheet.width).toBeGreaterThan(4 * 128);
    expect(sheet.width).toBeLessThan(4 * 256);

    const record = JSON.parse(readFileSync(join(out, 'story.json'), 'utf8'));
    expect(record).toMatchObject({ style: { name: 'Comic book', applied: false }, negative: 'blurry', negativePrompt: 'blurry',
      size: { width: 128, height: 128 }, upscale: 4, seed: 5, settings: { scheduler: 'ddim', steps: 4 } });
    expect(record.characters.map((c: { name: string; description: string; identity: Record<string, unknown> }) =>
      [c.name, c.description, c.identity.source, c.identity.seeds, c.identity.csaSeed, c.identity.files])).toEqual([
      ['Mira', 'a person with red hair', 'pack', [5, 6], 5, ['identity-mira-1.png', 'identity-mira-2.png']],
      ['Leo', 'a person with blue hair and green shirt', 'pack', [7, 8], 6, ['identity-leo-1.png', 'identity-leo-2.png']],
    ]);
    expect(record.characters[0].identity.anchor).not.toBe(record.characters[1].identity.anchor);
    expect(record.frames.map((f: { file: string; prompt: string; caption: string; seed: number; characters: string[] }) =>
      [f.file, f.prompt, f.caption, f.seed, f.characters])).toEqual([
      ['frame-01.png', 'a person with red hair standing in the city', 'Mira alone', 5, ['Mira']],
      ['frame-02.png', 'a person with blue hair and green shirt walking in the forest', 'Leo alone', 6, ['Leo']],
      ['frame-03.png', 'a person with red hair and a person with blue hair and green shirt waving on the beach', 'Both', 7, ['Mira', 'Leo']],
      ['frame-04.png', 'a person with red hair and a person with blue hair and green shirt sitting in the snow', 'Everyone', 8, ['Mira', 'Leo']],
      ['frame-05.png', 'the desert at night', 'Nobody', 9, []],
    ]);

    // The same prompt and seed reading Mira's bank alone: frame 3 differs, so it did read both banks; frame 1 does not.
    const lines = readFileSync(join(dir, 'two.txt'), 'utf8').split('\n');
    lines[2] = '[Mira] and a person with blue hair and green shirt waving on the beach #Both';
    writeFileSync(join(dir, 'mira-only.txt'), lines.join('\n'));
    const alone = join(dir, 'mira-only');
    const again = await installed(['generate', '--pack', PACK, '--character', 'Mira=a person with red hair', '--script', join(dir, 'mira-only.txt'),
      '--character', 'Leo=a person with blue hair and green shirt', '--out', alone, '--steps', '4', '--threads', '1', '--seed', '5',
      '--negative', 'blurry', '--style', 'Comic book', '--size', '128x128']);
    expect(again.code).toBe(0);
    const second = JSON.parse(readFileSync(join(alone, 'story.json'), 'utf8'));
    expect(second.frames[2]).toMatchObject({ prompt: record.frames[2].prompt, seed: 7, characters: ['Mira'] });
    expect(second.characters.map((c: { identity: { anchor: string } }) => c.identity.anchor)).toEqual(record.characters.map((c: { identity: { anchor: string } }) => c.identity.anchor));
    expect(readFileSync(join(alone, 'frame-01.png')).equals(readFileSync(join(out, 'frame-01.png')))).toBe(true);
    expect(readFileSync(join(alone, 'frame-03.png')).equals(readFileSync(join(out, 'frame-03.png')))).toBe(false);
  }, 600_000);
});
