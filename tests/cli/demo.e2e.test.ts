/**
 * `npm run demo`'s command as a person sees it, in a child process against a real PostgreSQL:
 * the studio URL heads what it prints, the terminal has human lines only (the JSON log is in a
 * file under the data directory), the story's progress only goes up and ends at 100%, and the
 * frames and contact sheet are PNGs in ./out, served by a studio that answers at the printed URL.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { TestDatabase, createTestDatabase } from '../support/test-db';

jest.setTimeout(600_000);

const ROOT = join(__dirname, '../..');

describe('storyforge demo', () => {
  let db: TestDatabase;
  let scratch: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    scratch = mkdtempSync(join(tmpdir(), 'sf-demo-'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await db.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('prints the studio first, keeps JSON off the terminal, and writes a story a person can open', async () => {
    const dataDir = join(scratch, 'data');
    child = spawn(process.execPath, ['-r', join(ROOT, 'tests/support/ts-register.cjs'), join(ROOT, 'src/cli/storyforge.ts'), 'demo'], {
      cwd: scratch,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, STORYFORGE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', STORYFORGE_WORKERS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    for (let i = 0; !out.includes('Demo story generated:') && !out.includes('could not be generated'); i++) {
      if (i > 5000 || child.exitCode !== null) throw new Error(`the demo did not finish:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 200)); // the rest of the summary's lines
    const lines = out.split('\n');
    expect(lines[0]).toBe('Starting StoryForge (database, migrations, model packs) ...');
    const studio = /^StoryForge studio: {2}(http:\/\/localhost:\d+)\/ /.exec(lines[1]!);
    expect(studio).not.toBeNull();
    // People's lines only: no JSON log record on the terminal.
    expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    expect(out).not.toContain('could not be generated');

    // Progress (plain lines: not a terminal) never goes back and ends full.
    const percents = [...out.matchAll(/^ {2}generating: (.+) \((\d+)%\)$/gm)].map((m) => ({ label: m[1]!, percent: Number(m[2]) }));
    expect(percents.length).toBeGreaterThan(1);
    expect(percents.map((p) => p.percent)).toEqual([...percents.map((p) => p.percent)].sort((a, b) => a - b));
    expect(percents.at(-1)).toEqual({ label: 'done', percent: 100 });
    expect(percents.some((p) => /^(identity bank|frames?) /.test(p.label))).toBe(true);

    // The JSON log is in the data directory, and nothing went wrong on stderr.
    const log = readFileSync(join(dataDir, 'logs', 'storyforge.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((r) => r.msg)).toEqual(expect.arrayContaining(['listening', 'workers started']));
    expect(err).toBe('');

    const written = readdirSync(join(scratch, 'out')).sort();
    expect(written).toEqual(['robins-day-contact-sheet.png', ...[1, 2, 3, 4].map((n) => `robins-day-frame-${n}.png`)].sort());
    for (const file of written) expect((await sharp(join(scratch, 'out', file)).metadata()).format).toBe('png');

    // The printed studio URL serves the studio.
    const page = await fetch(studio![1]!.replace('localhost', '127.0.0.1') + '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The shutdown is in the file too: nothing the process logged before it exited is lost.
    const after = readFileSync(join(dataDir, 'logs', 'storyforge.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).msg);
    expect(after).toEqual(expect.arrayContaining(['signal received', 'shutting down', 'stopped']));
  });
});
