/**
 * A story's settings in the studio (chromium against a real server and PostgreSQL): rename it,
 * change its steps, seed and cast (a cast change the API refuses is shown with its code and the
 * frame it names, and changes nothing), and delete it after a confirm step. And its frames'
 * order, moved up and down in the script editor.
 */
import type { Browser } from 'puppeteer-core';
import { startTestApi, TestApi } from '../support/api-harness';
import { launchBrowser } from '../support/browser';
import { createCharacter, createStory, decodeId } from '../support/fixtures';
import { buildStudio, openStory, text, withEvidence } from '../support/studio-page';

describe('studio story settings', () => {
  let api: TestApi;
  let browser: Browser;
  let key: string;
  const origin = () => api.url.replace(/\/graphql$/, '');

  beforeAll(async () => {
    buildStudio();
    api = await startTestApi();
    key = (await api.createProject('Settings')).secret;
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('renames a story, changes its steps, seed and cast, shows a refused cast change, and deletes it', async () => {
    const ann = await createCharacter(api, key, 'Ann');
    await createCharacter(api, key, 'Bo');
    await createCharacter(api, key, 'Cy');
    const story = await createStory(api, key, { title: 'Draft', characterIds: [ann.id], script: '[Ann] walking in the forest\nwaving in the city', steps: 12, seed: 3 });
    const row = async () => (await api.db.owner.query(
      `SELECT s.title, s.steps, s.seed, array(SELECT c.name FROM story_characters sc JOIN characters c ON c.id = sc.character_id
         WHERE sc.story_id = s.id ORDER BY c.name) AS cast FROM stories s WHERE s.id = $1`, [decodeId(story.id)])).rows[0];

    const page = await browser.newPage();
    await withEvidence(page, 'studio-story-settings', async () => {
      await openStory(page, origin(), key, story.id);
      await page.waitForSelector('.story-settings summary');
      await page.click('.story-settings summary');
      await page.waitForSelector('.story-settings input[name="cast"][value="Ann"]');
      expect(await page.$eval('.story-settings input[name="cast"][value="Ann"]', (e) => (e as any).checked)).toBe(true);

      // Ann leaves the cast while frame 1 names her: refused, and nothing changes.
      await page.click('.story-settings input[name="cast"][value="Ann"]');
      await page.click('.story-settings-form button[type="submit"]');
      await page.waitForSelector('.story-settings-form .error');
      expect(await text(page, '.story-settings-form .error')).toBe(
        'CONFLICT frame 1 shows a character that would leave the cast; change that frame first (characterIds)');
      expect(await row()).toEqual({ title: 'Draft', steps: 12, seed: 3, cast: ['Ann'] });

      // Ann stays, Cy joins (found by search), and the rest changes too.
      await page.click('.story-settings input[name="cast"][value="Ann"]');
      await page.type('.story-settings input[name="castSearch"]', 'Cy');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.story-settings input[name="cast"]').length === 2);
      await page.click('.story-settings input[name="cast"][value="Cy"]');
      for (const [field, value] of [['storyTitle', 'The walk'], ['storySteps', '8'], ['storySeed', '41']]) {
        await page.$eval(`.story-settings input[name="${field}"]`, (e) => (e as any).select());
        await page.type(`.story-settings input[name="${field}"]`, value);
      }
      await page.click('.story-settings-form button[type="submit"]');
      await page.waitForFunction(() => (globalThis as any).document.querySelector('.story h1')?.textContent === 'The walk');
      expect(await row()).toEqual({ title: 'The walk', steps: 8, seed: 41, cast: ['Ann', 'Cy'] });
      await page.waitForFunction(() => ((globalThis as any).document.querySelector('.story > .meta')?.textContent ?? '').includes('8 steps · seed 41'));
      expect(await text(page, '.story > .meta')).toContain('cast: Ann, Cy');

      // Deleting asks first; "Keep" keeps it.
      await page.click('.story-settings .delete-story');
      await page.click('.story-settings .keep');
      expect(await row()).toBeDefined();
      await page.click('.story-settings .delete-story');
      await page.click('.story-settings .confirm-delete');
      await page.waitForFunction(() => (globalThis as any).location.pathname === '/stories');
      expect(await row()).toBeUndefined();
      await page.waitForSelector('.story-list .empty');
      expect(await page.$$('.story-link')).toHaveLength(0);
    });
    await page.close();
  });

  it('moves frames up and down in the script editor, the grid following', async () => {
    const story = await createStory(api, key, { title: 'Order', script: 'walking # A.\nwaving # B.\nsitting # C.' });
    const order = async () => (await api.db.owner.query(`SELECT caption FROM frames WHERE story_id = $1 ORDER BY position`, [decodeId(story.id)])).rows.map((r) => r.caption);
    const grid = () => page.$$eval('.frame-grid .frame .caption', (captions) => captions.map((c) => (c as any).textContent as string));
    const page = await browser.newPage();
    await withEvidence(page, 'studio-move-frames', async () => {
      await openStory(page, origin(), key, story.id);
      await page.click('.script-editor summary');
      await page.waitForSelector('.frame-rows li');
      // The first cannot go up, the last cannot go down.
      expect(await page.$eval('.frame-rows li:nth-child(1) .move-up', (b) => (b as any).disabled)).toBe(true);
      expect(await page.$eval('.frame-rows li:nth-child(3) .move-down', (b) => (b as any).disabled)).toBe(true);

      await page.click('.frame-rows li:nth-child(1) .move-down');
      await page.waitForFunction(() => (globalThis as any).document.querySelector('.frame-grid .frame .caption')?.textContent === 'B.');
      expect(await grid()).toEqual(['B.', 'A.', 'C.']);
      expect(await order()).toEqual(['B.', 'A.', 'C.']);
      await page.click('.frame-rows li:nth-child(3) .move-up');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.frame-grid .frame .caption')[1]?.textContent === 'C.');
      expect(await grid()).toEqual(['B.', 'C.', 'A.']);
      expect(await order()).toEqual(['B.', 'C.', 'A.']);
      expect(await page.$$eval('.frame-rows input[name="caption"]', (inputs) => inputs.map((i) => (i as any).value))).toEqual(['B.', 'C.', 'A.']);
    });
    await page.close();
  });
});
