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

function storyforge(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['-r', './tests/support/ts-register.cjs', 'src/cli/storyforge.ts', ...args], { cwd: ROOT },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

beforeAll(() => {
  writeFileSync(join(dir, 'story.txt'), [
    'standing in the city #Morning in town.',
    '',
    '[NC] the beach at night #Nobody is here.',
    'waving on the beach #Hello!',
  ].join('\n'));
  writeFileSync(join(dir, 'bad.txt'), 'one frame\n[NC] [Bo] two');
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
  expect(first.stderr).toMatch(/identity bank: (\d+)\/\1 steps \(100%\)/);
  expect(first.stderr).toContain('frames: 3/3 frames (100%)');

  const out = join(dir, 'out1');
  expect(readdirSync(out).sort()).toEqual(['contact-sheet.png', 'frame-01.png', 'frame-02.png', 'frame-03.png', 'identity-1.png', 'identity-2.png', 'story.json']);
  const meta = await sharp(join(out, 'frame-01.png')).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256]);
  const sheet = await sharp(join(out, 'contact-sheet.png')).metadata();
  expect(sheet.width).toBeGreaterThan(3 * 256);

  const record = JSON.parse(readFileSync(join(out, 'story.json'), 'utf8'));
  expect(record.settings).toEqual({ scheduler: 'ddim', steps: 2, guidance: JSON.parse(readFileSync(join(__dirname, '../../models/packs/story-world/manifest.json'), 'utf8')).defaults.guidance });
  expect(record.identity).toMatchObject({ source: 'pack', seeds: [5, 6], csaSeed: 5 });
  expect(record.frames.map((f: { prompt: string; seed: number; character: boolean }) => [f.prompt, f.seed, f.character])).toEqual([
    ['a person with red hair standing in the city', 5, true],
    ['the beach at night', 6, false],
    ['a person with red hair waving on the beach', 7, true],
  ]);

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
  expect(record.identity).toMatchObject({ source: 'script', seeds: [5, 7], frames: ['frame-01.png', 'frame-03.png'],
    prompts: ['a person with red hair standing in the city', 'a person with red hair waving on the beach'] });
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
    ['a script that does not parse', withArgs((a) => { a[6] = join(dir, 'bad.txt'); }), 'bad.txt: line 2: [Bo] is not in the story\'s cast (this command has one character, from --character'],
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
