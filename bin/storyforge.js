#!/usr/bin/env node
/*
 * The `storyforge` command (package.json "bin"): runs the compiled CLI, dist/src/cli/storyforge.js.
 * In a checkout (tsconfig.build.json and src/ beside this folder) it first builds it with the
 * project's own TypeScript when it is missing or older than the sources, so `npx storyforge ...`
 * always runs what the sources say. An installed package without TypeScript runs what it has,
 * or says in one line what to do.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'cli', 'storyforge.js');
const buildConfig = path.join(root, 'tsconfig.build.json');
// Written after a build here: the sources' fingerprint (count and times) it built. tsc rewrites only
// the outputs whose sources changed, so the entry's own time does not say what was built; and a
// fingerprint is not fooled by a clock that was wrong when a file was saved.
const stamp = path.join(root, 'dist', '.storyforge-bin-built');

function fail(message) {
  process.stderr.write(`storyforge: ${message}\n`);
  process.exit(1);
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -Infinity;
  }
}

/** What tsconfig.build.json compiles (the top folders of its "include") and where it keeps its build info. */
function buildSettings() {
  const settings = { dirs: ['src', 'migrations', 'workers', 'bench'], buildInfo: path.join(root, 'dist', '.tsbuildinfo.build') };
  try {
    const config = JSON.parse(fs.readFileSync(buildConfig, 'utf8'));
    if (Array.isArray(config.include)) settings.dirs = [...new Set(config.include.map((p) => String(p).split(/[\\/]/)[0]).filter((d) => d && !d.includes('*')))];
    const info = config.compilerOptions && config.compilerOptions.tsBuildInfoFile;
    if (typeof info === 'string') settings.buildInfo = path.resolve(root, info);
  } catch {
    // Not plain JSON (comments): the defaults above are this project's.
  }
  return settings;
}

/** The files under `dir` (hidden entries and node_modules left out), depth first; none when it cannot be read. */
function filesUnder(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules')
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** The sources' fingerprint (how many, their times) and the newest time, of the .ts files and the tsconfig files. */
function sources(dirs) {
  const times = [mtime(buildConfig), mtime(path.join(root, 'tsconfig.json'))].filter(Number.isFinite);
  for (const d of dirs) times.push(...filesUnder(path.join(root, d)).filter((f) => f.endsWith('.ts')).map(mtime));
  return { fingerprint: `${times.length} ${times.reduce((a, b) => a + Math.round(b), 0)}`, newest: Math.max(-Infinity, ...times) };
}

function build(settings, hadEntry, fingerprint) {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    const todo = `run \`npm install\` and \`npm run build\` in ${root}`;
    if (hadEntry) {
      process.stderr.write(`storyforge: the build in dist/ is older than the sources and TypeScript is not installed to rebuild it (${todo}); running it as it is\n`);
      return;
    }
    fail(`dist/src/cli/storyforge.js is missing and TypeScript is not installed to build it: ${todo}`);
  }
  // tsc trusts its build info: with the outputs gone it would not write them again.
  if (!hadEntry) fs.rmSync(settings.buildInfo, { force: true });
  process.stderr.write('storyforge: building (tsc -p tsconfig.build.json) ...\n');
  const result = spawnSync(process.execPath, [tsc, '-p', buildConfig], { cwd: root, encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout || ''}${result.stderr || ''}`.trim();
    if (output) process.stderr.write(output + '\n');
    fail(`the build failed${result.error ? ` (${result.error.message})` : ''}: fix the errors above, then run \`npm run build\` in ${root} or this command again`);
  }
  if (!fs.existsSync(entry)) fail(`the build did not write ${path.relative(root, entry)}: check the outDir in tsconfig.build.json`);
  fs.writeFileSync(stamp, fingerprint + '\n');
}

/**
 * The studio the server commands serve at / (dist/studio), built with vite when it is missing or
 * older than its sources. Without vite it is left as it is: the server then answers / with the
 * command that builds it.
 */
function buildStudio() {
  const studio = path.join(root, 'clients', 'studio');
  const config = path.join(studio, 'vite.config.mjs');
  const built = path.join(root, 'dist', 'studio', 'index.html');
  if (!fs.existsSync(config) || mtime(built) >= Math.max(-Infinity, ...filesUnder(studio).map(mtime))) return;
  let vite;
  try {
    // vite's exports do not list its command; its package.json is, and says where it is.
    const manifest = require.resolve('vite/package.json', { paths: [root] });
    vite = path.join(path.dirname(manifest), require(manifest).bin.vite);
  } catch {
    process.stderr.write(`storyforge: the studio is not built and vite is not installed to build it (run \`npm install\` and \`npm run build:studio\` in ${root})\n`);
    return;
  }
  process.stderr.write('storyforge: building the studio (vite build) ...\n');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', config, '--logLevel', 'error'], { cwd: root, encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout || ''}${result.stderr || ''}`.trim();
    if (output) process.stderr.write(output + '\n');
    fail(`the studio's build failed: fix the errors above, then run \`npm run build:studio\` in ${root} or this command again`);
  }
}

const checkout = fs.existsSync(buildConfig) && fs.existsSync(path.join(root, 'src'));
const hadEntry = fs.existsSync(entry);
if (checkout) {
  const settings = buildSettings();
  const now = sources(settings.dirs);
  let built = null;
  try {
    built = fs.readFileSync(stamp, 'utf8').trim();
  } catch {
    // Built some other way (npm run build): judged by the times alone.
  }
  const stale = !hadEntry || (built !== null ? built !== now.fingerprint : now.newest > mtime(entry));
  if (stale) build(settings, hadEntry, now.fingerprint);
  if (['demo', 'serve'].includes(process.argv[2])) buildStudio();
} else if (!hadEntry) {
  fail(`${path.relative(root, entry)} is missing from ${root}, and there are no sources to build it from: reinstall storyforge from a checkout (npm run build first)`);
}

// The CLI reads process.argv itself ([node, this file, ...arguments]) and sets the exit status.
require(entry);
