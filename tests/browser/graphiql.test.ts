/**
 * GraphiQL in a real browser: served by the API without any CDN (every request the page makes
 * stays on the API's origin), the key from the studio's session storage in the Authorization
 * header, and a query run from the page answered by the API. Off in production unless asked for.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { loadConfig } from '../../src/config';
import { TestApi, startTestApi } from '../support/api-harness';
import { launchBrowser } from '../support/browser';

const SHOTS = resolve(__dirname, '../../test-output');

describe('GraphiQL', () => {
  let api: TestApi;
  let browser: Browser;
  let key: string;
  const origin = () => api.url.replace(/\/graphql$/, '');

  beforeAll(async () => {
    api = await startTestApi({ graphiql: true });
    key = (await api.createProject('Browser')).secret;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('runs a query with the studio login key, loading nothing from elsewhere', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(origin()) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) foreign.push(r.url());
    });
    // The studio's login leaves the key in session storage for this origin.
    await page.goto(origin() + '/healthz');
    // Runs in the page (no DOM types here: they would clash with Node's fetch types).
    await page.evaluate((k) => (globalThis as any).sessionStorage.setItem('storyforge.apiKey', k), key);
    await page.goto(origin() + '/graphiql', { waitUntil: 'networkidle0' });
    await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
    const headers = await page.evaluate(() => (globalThis as any).document.body.innerText as string);
    expect(headers).toContain('Authorization');
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('.result-window')?.textContent?.includes('"role"'), { timeout: 30_000 });
    const result = await page.$eval('.result-window', (e) => (e as any).textContent as string);
    expect(result).toContain('ADMIN');
    expect(result).toContain('Browser');
    expect(foreign).toEqual([]);
    expect(key.length).toBeGreaterThan(10);
    expect(page.url()).not.toContain(key);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'graphiql.png') });
  });

  it('is not there in production unless STORYFORGE_GRAPHIQL=1', async () => {
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', STORYFORGE_GRAPHIQL: '1' })).toMatchObject({ graphiql: true, introspection: true });
    expect(loadConfig({ STORYFORGE_GRAPHIQL: '0' }).graphiql).toBe(false);
    const off = await startTestApi({ graphiql: false });
    try {
      const res = await fetch(off.url.replace(/\/graphql$/, '/graphiql'));
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
