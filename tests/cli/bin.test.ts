/**
 * bin/storyforge.js, the command package.json's "bin" installs: it runs dist/src/cli/storyforge.js,
 * building it first in a checkout when it is missing or older than the sources. Exercised on a
 * tiny package of its own (a copy of the script, one source file), so a build takes a second.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

interface Run { code: number; stdout: string; stderr: string }

function bin(root: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [join(root, 'bin', 'storyforge.js'), ...args], { cwd: tmpdir() },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A package with bin/storyforge.js and a CLI that prints its arguments and exits with 3. */
function fakePackage(options: { typescript: boolean; sources: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), 'sf-bin-'));
  dirs.push(root);
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'storyforge.js'), join(root, 'bin', 'storyforge.js'));
  writeFileSync(join(root, 'package.json'), '{ "name": "fake", "private": true }');
  if (options.sources) {
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    writeFileSync(join(root, 'src', 'cli', 'storyforge.ts'), "const words: string[] = process.argv.slice(2);\nconsole.log('cli v1', words.join(' '));\nprocess.exitCode = 3;\n");
    writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, rootDir: '.', outDir: 'dist', types: ['node'], incremental: true } }));
    writeFileSync(join(root, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { tsBuildInfoFile: 'dist/.tsbuildinfo.build' }, include: ['src/**/*.ts'] }));
  }
  if (options.typescript) symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

const entry = (root: string) => join(root, 'dist', 'src', 'cli', 'storyforge.js');

it('builds a missing or stale CLI once, then runs it with its arguments and exit status', async () => {
  const root = fakePackage({ typescript: true, sources: true });
  const first = await bin(root, ['generate', '--help']);
  expect(first.stderr).toBe('storyforge: building (tsc -p tsconfig.build.json) ...\n');
  expect([first.code, first.stdout]).toEqual([3, 'cli v1 generate --help\n']);

  const second = await bin(root, ['x']);
  expect([second.code, second.stdout, second.stderr]).toEqual([3, 'cli v1 x\n', '']);

  // A source newer than the build: built again, and the new code runs.
  const source = join(root, 'src', 'cli', 'storyforge.ts');
  writeFileSync(source, "console.log('cli v2');\n");
  const later = new Date(Date.now() + 60_000);
  utimesSync(source, later, later);
  const third = await bin(root, []);
  expect([third.code, third.stdout, third.stderr]).toEqual([0, 'cli v2\n', 'storyforge: building (tsc -p tsconfig.build.json) ...\n']);

  // Touched but unchanged: tsc rewrites nothing, yet the next run does not build again.
  const touched = new Date(Date.now() + 120_000);
  utimesSync(source, touched, touched);
  expect((await bin(root, [])).stderr).toContain('building');
  expect(await bin(root, [])).toEqual({ code: 0, stdout: 'cli v2\n', stderr: '' });

  // An edit dated before the last build (the source above came from a clock two minutes fast): still seen.
  writeFileSync(source, "console.log('cli v3');\n");
  expect(await bin(root, [])).toEqual({ code: 0, stdout: 'cli v3\n', stderr: 'storyforge: building (tsc -p tsconfig.build.json) ...\n' });

  // The output deleted while the build info stays: still rebuilt.
  rmSync(join(root, 'dist', 'src'), { recursive: true });
  expect(await bin(root, [])).toEqual({ code: 0, stdout: 'cli v3\n', stderr: 'storyforge: building (tsc -p tsconfig.build.json) ...\n' });
}, 300_000);

it('shows the compiler errors and one line when the build fails', async () => {
  const root = fakePackage({ typescript: true, sources: true });
  writeFileSync(join(root, 'src', 'cli', 'storyforge.ts'), 'const n: number = "text";\nconsole.log(n);\n');
  const run = await bin(root, []);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain("error TS2322: Type 'string' is not assignable to type 'number'");
  expect(run.stderr.trim().split('\n').pop()).toBe(`storyforge: the build failed: fix the errors above, then run \`npm run build\` in ${root} or this command again`);
}, 120_000);

it('says in one line what to do when it cannot build', async () => {
  const root = fakePackage({ typescript: false, sources: true });
  const missing = await bin(root, []);
  expect(missing).toEqual({ code: 1, stdout: '',
    stderr: `storyforge: dist/src/cli/storyforge.js is missing and TypeScript is not installed to build it: run \`npm install\` and \`npm run build\` in ${root}\n` });

  // A stale build it cannot redo: said once, then run as it is.
  mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(entry(root), "console.log('old build');\n");
  const old = new Date(Date.now() - 60_000);
  utimesSync(entry(root), old, old);
  const stale = await bin(root, []);
  expect(stale.code).toBe(0);
  expect(stale.stdout).toBe('old build\n');
  expect(stale.stderr).toBe(`storyforge: the build in dist/ is older than the sources and TypeScript is not installed to rebuild it (run \`npm install\` and \`npm run build\` in ${root}); running it as it is\n`);
}, 60_000);

it('runs an installed package without sources as it is, and says what to do when its build is missing', async () => {
  const root = fakePackage({ typescript: false, sources: false });
  const missing = await bin(root, []);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(`storyforge: dist/src/cli/storyforge.js is missing from ${root}, and there are no sources to build it from: reinstall storyforge from a checkout (npm run build first)\n`);
  mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(entry(root), "console.log('installed', process.argv.slice(2).join(' '));\n");
  expect(await bin(root, ['--help'])).toEqual({ code: 0, stdout: 'installed --help\n', stderr: '' });
}, 60_000);

it('builds the studio for the server commands when it is missing or older than its sources', async () => {
  const root = fakePackage({ typescript: true, sources: true });
  const studio = join(root, 'clients', 'studio');
  mkdirSync(join(studio, 'src'), { recursive: true });
  writeFileSync(join(studio, 'index.html'), '<!doctype html><title>studio</title><script type="module" src="/src/main.ts"></script>\n');
  writeFileSync(join(studio, 'src', 'main.ts'), "document.title = 'v1';\n");
  writeFileSync(join(studio, 'vite.config.mjs'), "import { dirname, resolve } from 'node:path';\nimport { fileURLToPath } from 'node:url';\n"
    + "const here = dirname(fileURLToPath(import.meta.url));\nexport default { root: here, build: { outDir: resolve(here, '../../dist/studio'), emptyOutDir: true } };\n");
  const built = join(root, 'dist', 'studio', 'index.html');

  // Other commands never build it.
  expect((await bin(root, ['generate'])).stderr).toBe('storyforge: building (tsc -p tsconfig.build.json) ...\n');
  expect(existsSync(built)).toBe(false);

  const serve = await bin(root, ['serve']);
  expect([serve.code, serve.stdout, serve.stderr]).toEqual([3, 'cli v1 serve\n', 'storyforge: building the studio (vite build) ...\n']);
  expect(readFileSync(built, 'utf8')).toContain('<title>studio</title>');
  expect((await bin(root, ['demo'])).stderr).toBe('');

  // A newer source: built again.
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(studio, 'src', 'main.ts'), later, later);
  expect((await bin(root, ['demo'])).stderr).toBe('storyforge: building the studio (vite build) ...\n');
}, 300_000);

it('is an executable node script', () => {
  const file = join(ROOT, 'bin', 'storyforge.js');
  expect(statSync(file).mode & 0o111).not.toBe(0);
  expect(require('node:fs').readFileSync(file, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
});
