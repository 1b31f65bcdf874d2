/**
 * A real browser for page tests: Debian's chromium, headless, driven by puppeteer-core. The test
 * command installs chromium when it is missing (scripts/ensure-deps.mjs); a test that finds none
 * fails saying so rather than passing without a browser.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import puppeteer, { Browser } from 'puppeteer-core';

export function chromiumPath(): string {
  const candidates = [process.env.STORYFORGE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no chromium found: install Debian\'s chromium (apt-get install chromium) or set STORYFORGE_CHROMIUM');
  }
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI containers: chromium's sandbox needs user namespaces those do not give.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
  });
}
