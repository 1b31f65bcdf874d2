// Dependency-free: installs node_modules with `npm ci` when missing or older than the lockfile,
// so `npm test` and `npm run demo` work on a fresh clone with only Node and npm.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.storyforge-lock-hash');

const hash = createHash('sha256').update(readFileSync(lock)).update(readFileSync(join(root, 'package.json'))).digest('hex');
const current = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';

if (current !== hash) {
  console.error('[ensure-deps] installing dependencies (npm ci)...');
  // --include=dev: the build and the tests need TypeScript and jest even when NODE_ENV=production.
  execSync('npm ci --include=dev --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
  // Written by us after a successful install, so a half-finished install is retried next time.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(stamp, hash + '\n');
}

// `--browser` (the test command): the page tests drive Debian's chromium. Installed with apt when
// missing and we are root (CI runs as root on a machine like the developers'); otherwise one line
// says what to install.
if (process.argv.includes('--browser')) {
  const given = process.env.STORYFORGE_CHROMIUM;
  const found = given ? existsSync(given) : ['/usr/bin/chromium', '/usr/bin/chromium-browser'].some((p) => existsSync(p));
  if (!found) {
    const root = process.getuid?.() === 0;
    const apt = existsSync('/usr/bin/apt-get');
    if (given || !root || !apt) {
      console.error(given
        ? `[ensure-deps] STORYFORGE_CHROMIUM=${given} does not exist: point it at a Chromium binary`
        : '[ensure-deps] the browser tests need Chromium: install Debian\'s chromium (sudo apt-get install chromium) or set STORYFORGE_CHROMIUM');
      process.exit(1);
    }
    console.error('[ensure-deps] installing Debian\'s chromium for the browser tests (apt-get)...');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit', shell: '/bin/sh' });
  }
}
