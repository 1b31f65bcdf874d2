/**
 * Driving the studio in a page tests: its production build, a login through the page, and the
 * evidence a failed step leaves (a screenshot and the page's text).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer-core';

const ROOT = resolve(__dirname, '../..');
export const SHOTS = join(ROOT, 'test-output');

/** Vite is ESM-only and Jest loads tests as CommonJS: its build() runs in a child Node (under a second). */
export function buildStudio(): void {
  const config = join(ROOT, 'clients/studio/vite.config.mjs');
  const script = `const { build } = await import('vite'); await build({ configFile: ${JSON.stringify(config)}, logLevel: 'warn' });`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`studio build failed:\n${run.stdout}\n${run.stderr}`);
}

/** Every URL the page asks for, and every socket it opens (puppeteer's request events leave sockets out). */
export async function watchTraffic(page: Page): Promise<{ requests: string[]; sockets: string[]; problems: string[] }> {
  const seen = { requests: [] as string[], sockets: [] as string[], problems: [] as string[] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('pageerror', (e) => seen.problems.push(String(e)));
  // A CSP refusal or a failed load is reported on the console.
  page.on('console', (m) => { if (m.type() === 'error') seen.problems.push(m.text()); });
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', (e) => seen.sockets.push(e.url));
  return seen;
}

export const text = (page: Page, selector: string) => page.$eval(selector, (e) => (e as any).textContent as string);

/** A failed step leaves a screenshot and says what the page showed. */
export async function withEvidence(page: Page, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (error) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}-failed.png`), fullPage: true }).catch(() => undefined);
    const shown = await page.evaluate(() => (globalThis as any).document.body.innerText as string).catch(() => '(page gone)');
    (error as Error).message += `\n--- the page at ${page.url()} showed:\n${shown}`;
    throw error;
  }
}

export async function logIn(page: Page, origin: string, key: string): Promise<void> {
  await page.goto(origin + '/', { waitUntil: 'networkidle0' });
  await page.type('input[name="apiKey"]', key);
  await page.click('.login-form button[type="submit"]');
}


/** Logged in, then straight to a story's view by its URL (as a shared link opens it). */
export async function openStory(page: Page, origin: string, key: string, storyId: string): Promise<void> {
  await logIn(page, origin, key);
  await page.waitForSelector('.topbar .who');
  await page.goto(`${origin}/stories/${encodeURIComponent(storyId)}`, { waitUntil: 'networkidle0' });
}
