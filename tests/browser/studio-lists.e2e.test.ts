/**
 * Long lists in the studio (chromium against a real server and PostgreSQL): the API gives at most
 * 100 items a page, the studio asks for 50 stories or characters at a time and shows the next
 * page on request, and a story's frame grid and script editor hold every frame of a story at the
 * API's limit (200 frames: two pages of frames). Stories come newest first; the new story form's
 * cast picker finds any character by search, also one no list page shows; both lists search.
 */
import type { Browser } from 'puppeteer-core';
import { LIMITS } from '../../src/domain/common/validation';
import { startTestApi, TestApi } from '../support/api-harness';
import { launchBrowser } from '../support/browser';
import { buildStudio, logIn, openStory, withEvidence } from '../support/studio-page';

const STORIES = 53;
const CHARACTERS = 51;

describe('studio lists', () => {
  let api: TestApi;
  let browser: Browser;
  let key: string;
  let longStoryId: string;
  const origin = () => api.url.replace(/\/graphql$/, '');

  async function must<T = any>(query: string, variables: Record<string, unknown>): Promise<T> {
    const r = await api.gql<T>(query, variables, key);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  }

  beforeAll(async () => {
    buildStudio();
    api = await startTestApi();
    key = (await api.createProject('Lists')).secret;
    for (let i = 1; i <= CHARACTERS; i++) {
      await must(`mutation($input: CreateCharacterInput!) { createCharacter(input: $input) { id } }`,
        { input: { name: `Person ${i}`, description: 'a person with red hair' } });
    }
    for (let i = 1; i <= STORIES; i++) {
      await must(`mutation($input: CreateStoryInput!) { createStory(input: $input) { id } }`,
        { input: { title: `Story ${String(i).padStart(2, '0')}`, script: 'walking in the forest' } });
    }
    const script = Array.from({ length: LIMITS.framesPerStory }, (_, i) => `walking in the forest # Frame ${i + 1}.`).join('\n');
    longStoryId = (await must<any>(`mutation($input: CreateStoryInput!) { createStory(input: $input) { id } }`,
      { input: { title: 'The long walk', script } })).createStory.id;
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('the API limits let one more page of frames end any story', () => {
    // StoryView.tsx reads the story's first page of frames, then one more: this is what makes that whole.
    expect(LIMITS.framesPerStory).toBeLessThanOrEqual(2 * LIMITS.pageSize);
  });

  it('shows stories and characters 50 at a time, the rest on request, each once', async () => {
    const page = await browser.newPage();
    await withEvidence(page, 'studio-lists', async () => {
      await logIn(page, origin(), key);
      await page.waitForSelector('.story-list .story-link');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.story-link').length === 50);
      // Newest first: the story made last leads.
      const firstPage = await page.$$eval('.story-link', (links) => links.map((a) => (a as any).textContent as string));
      expect(firstPage[0]).toBe('The long walk');
      expect(firstPage[1]).toBe('Story 53');
      expect(firstPage[49]).toBe('Story 05');

      await page.click('.story-list .more-pages button');
      const all = STORIES + 1;
      await page.waitForFunction((n: number) => (globalThis as any).document.querySelectorAll('.story-link').length === n, {}, all);
      const titles = await page.$$eval('.story-link', (links) => links.map((a) => (a as any).textContent as string));
      expect(new Set(titles).size).toBe(all);
      expect(titles.slice(50)).toEqual(['Story 04', 'Story 03', 'Story 02', 'Story 01']);
      // The last page says there is no more.
      expect(await page.$('.story-list .more-pages button')).toBeNull();

      // A search by title starts from its own first page; one that finds nothing says so.
      await page.type('input[name="storySearch"]', 'story 0');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.story-link').length === 9);
      expect(await page.$$eval('.story-link', (links) => links.map((a) => (a as any).textContent as string)))
        .toEqual(['Story 09', 'Story 08', 'Story 07', 'Story 06', 'Story 05', 'Story 04', 'Story 03', 'Story 02', 'Story 01']);
      await page.type('input[name="storySearch"]', '%');
      await page.waitForSelector('.story-list .empty');
      expect(await page.$eval('.story-list .empty', (e) => (e as any).textContent)).toBe('No story title holds “story 0%”.');

      await page.click('nav a[href="/characters"]');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.character-list .character').length === 50);
      await page.click('.character-list .more-pages button');
      await page.waitForFunction((n: number) => (globalThis as any).document.querySelectorAll('.character-list .character').length === n, {}, CHARACTERS);
      const names = await page.$$eval('.character-list .character', (cards) => cards.map((c) => (c as any).dataset.character as string));
      expect(new Set(names).size).toBe(CHARACTERS);
      expect(names[CHARACTERS - 1]).toBe(`Person ${CHARACTERS}`);
      expect(await page.$('.character-list .more-pages button')).toBeNull();
      await page.type('input[name="characterSearch"]', 'Person 5');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.character-list .character').length === 3);
      expect(await page.$$eval('.character-list .character', (cards) => cards.map((c) => (c as any).dataset.character as string)))
        .toEqual(['Person 5', 'Person 50', 'Person 51']);

      // The new story form finds any character to cast, also one beyond the first 50.
      await page.click('nav a[href="/stories/new"]');
      await page.waitForSelector('.story-form input[name="cast"]');
      expect(await page.$$eval('.story-form input[name="cast"]', (boxes) => boxes.length)).toBe(50);
      expect(await page.$('.story-form .more-matches')).not.toBeNull();
      await page.type('.story-form input[name="castSearch"]', 'Person 51');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.story-form input[name="cast"]').length === 1);
      await page.click('.story-form input[name="cast"][value="Person 51"]');
      // Ticked, it stays listed whatever is searched next.
      await page.$eval('.story-form input[name="castSearch"]', (e) => (e as any).select());
      await page.type('.story-form input[name="castSearch"]', 'Person 2');
      await page.waitForFunction(() => (globalThis as any).document.querySelector('.story-form input[name="cast"][value="Person 20"]'));
      expect(await page.$eval('.story-form input[name="cast"][value="Person 51"]', (e) => (e as any).checked)).toBe(true);
      await page.type('.story-form input[name="title"]', 'Cast from afar');
      await page.type('.story-form textarea[name="script"]', 'walking in the forest');
      await page.click('.story-form button[type="submit"]');
      await page.waitForSelector('.story[data-story-id] .frame');
      expect(await page.$eval('.story > .meta', (e) => (e as any).textContent as string)).toContain('cast: Person 51');

      // A new character on a list already read in full shows up at its end.
      await page.click('nav a[href="/characters"]');
      await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.character-list .character').length === 50);
      await page.click('.character-list .more-pages button');
      await page.waitForFunction((n: number) => (globalThis as any).document.querySelectorAll('.character-list .character').length === n, {}, CHARACTERS);
      await page.type('.new-character input[name="name"]', 'Latecomer');
      await page.type('.new-character textarea[name="description"]', 'a person with white hair');
      await page.click('.new-character button[type="submit"]');
      await page.waitForSelector('.character[data-character="Latecomer"]');
    });
    await page.close();
  });

  it('shows every frame of a story that holds the most frames, in the grid and in the script editor', async () => {
    const page = await browser.newPage();
    await withEvidence(page, 'studio-long-story', async () => {
      await openStory(page, origin(), key, longStoryId);
      const n = LIMITS.framesPerStory;
      await page.waitForFunction((count: number) => (globalThis as any).document.querySelectorAll('.frame-grid .frame').length === count, {}, n);
      const positions = await page.$$eval('.frame-grid .frame', (frames) => frames.map((f) => Number((f as any).dataset.position)));
      expect(positions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(await page.$$eval('.frame-rows li', (rows) => rows.length)).toBe(n);

      // An edit of a frame on the second page is kept, and the grid shows it.
      const last = `.frame-rows li:nth-child(${n}) input[name="caption"]`;
      await page.click('.script-editor summary');
      await page.$eval(last, (e) => (e as any).select());
      await page.type(last, 'The end.');
      await page.click(`.frame-rows li:nth-child(${n}) button[type="submit"]`);
      await page.waitForFunction((count: number) =>
        ((globalThis as any).document.querySelector(`.frame-grid .frame[data-position="${count}"]`)?.textContent ?? '').includes('The end.'), {}, n);
      const stored = await api.db.dataSource.query(`SELECT caption FROM frames WHERE story_id IN (SELECT id FROM stories WHERE title = 'The long walk') AND position = $1`, [n]);
      expect(stored).toEqual([{ caption: 'The end.' }]);
      // Still every frame after the change, each once.
      expect(await page.$$eval('.frame-grid .frame', (frames) => frames.length)).toBe(n);
    });
    await page.close();
  });
});
