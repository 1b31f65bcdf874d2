/**
 * Drawing comic pages takes seconds of CPU and storage work: it must not hold a database
 * connection idle in a transaction meanwhile (the pool is shared by every request). Checked in
 * PostgreSQL itself (pg_stat_activity) at every store call the page service makes, and the
 * session's rules around it: work done before is committed, the next statement is in a new
 * transaction that is still the project's (row-level security), and inside atomically() the
 * transaction is kept whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TENANT_SETTING } from '../../src/db/app-role';
import { TenantSession } from '../../src/db/tenant-session';
import { ComicPageService, DEFAULT_PAGE_OPTIONS } from '../../src/domain/pages/comic-pages';
import { FsImageStore } from '../../src/storage/fs-image-store';
import type { ImageStore } from '../../src/storage/image-store';
import { startTestApi, TestApi } from '../support/api-harness';
import { createStory, decodeId, insertCurrentRender } from '../support/fixtures';

describe('a tenant session gives its connection back for work without the database', () => {
  let api: TestApi;
  let dir: string;
  let projectId: string;
  let storyId: string;
  let otherStoryId: string;

  /** Connections of this database now in an open transaction with no statement running. */
  const idleInTransaction = async () => (await api.db.owner.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'`, [api.db.name])).rows[0].n as number;

  /** A real store that notes, at each call, how many connections sat idle in a transaction. */
  function watchedStore(): { store: ImageStore; seen: { call: string; idle: number }[] } {
    const inner = new FsImageStore(dir);
    const seen: { call: string; idle: number }[] = [];
    const store: ImageStore = {
      put: async (key, bytes) => { seen.push({ call: 'put', idle: await idleInTransaction() }); return inner.put(key, bytes); },
      get: async (key) => { seen.push({ call: 'get', idle: await idleInTransaction() }); return inner.get(key); },
      has: (key) => inner.has(key),
      remove: (key, since) => inner.remove(key, since),
    };
    return { store, seen };
  }

  beforeAll(async () => {
    api = await startTestApi();
    dir = mkdtempSync(join(tmpdir(), 'sf-pages-'));
    const project = await api.createProject('Pages');
    projectId = decodeId(project.projectId);
    const story = await createStory(api, project.secret, { title: 'Four', script: 'walking # One.\nwaving # Two.\nsitting # Three.\njumping # Four.' });
    storyId = decodeId(story.id);
    for (const { node } of story.frames.edges) await insertCurrentRender(api.db.owner, node.id);
    const other = await api.createProject('Other');
    otherStoryId = decodeId((await createStory(api, other.secret, { title: 'Not yours', script: 'walking' })).id);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws and stores comic pages with no connection idle in a transaction, then saves them in the project', async () => {
    const { store, seen } = watchedStore();
    const session = new TenantSession(api.db.dataSource, projectId);
    try {
      const pages = await new ComicPageService(store).pages(session, storyId, DEFAULT_PAGE_OPTIONS);
      expect(pages).toHaveLength(1);
      const { document, pageCount } = await new ComicPageService(store).document(session, storyId, DEFAULT_PAGE_OPTIONS, 'pdf');
      expect(pageCount).toBe(1);
      expect(document.mime).toBe('application/pdf');
      // The session afterwards: a new transaction, still this project's and still row-level secured.
      const [setting] = await session.query<{ v: string }>(`SELECT current_setting('${TENANT_SETTING}') AS v`);
      expect(setting!.v).toBe(projectId);
      const visible = await session.query<{ id: string }>(`SELECT id FROM stories WHERE id = ANY($1::uuid[])`, [[storyId, otherStoryId]]);
      expect(visible.map((r) => r.id)).toEqual([storyId]);
    } finally {
      await session.finish(true);
    }
    // Four pictures read and two page files stored while drawing; the page files read again for the PDF, and the PDF stored.
    expect(seen.map((s) => s.call)).toEqual(['get', 'get', 'get', 'get', 'put', 'put', 'get', 'put']);
    expect(seen.filter((s) => s.idle > 0)).toEqual([]);
    const { rows } = await api.db.owner.query(`SELECT format FROM story_pages WHERE story_id = $1 ORDER BY format`, [storyId]);
    expect(rows.map((r) => r.format)).toEqual(['pdf', 'png', 'webp']);
  });

  it('commits what was done before the work, and inside atomically keeps the transaction whole', async () => {
    const title = async () => (await api.db.owner.query(`SELECT title FROM stories WHERE id = $1`, [storyId])).rows[0].title as string;
    const session = new TenantSession(api.db.dataSource, projectId);
    try {
      await session.query(`UPDATE stories SET title = 'Renamed' WHERE id = $1`, [storyId]);
      const during = await session.withoutConnection(async () => ({ title: await title(), idle: await idleInTransaction() }));
      expect(during).toEqual({ title: 'Renamed', idle: 0 });

      await expect(session.atomically(async () => {
        await session.query(`UPDATE stories SET title = 'Half-written' WHERE id = $1`, [storyId]);
        const inside = await session.withoutConnection(async () => ({ title: await title(), idle: await idleInTransaction() }));
        // Not committed, and the transaction still open around the work.
        expect(inside).toEqual({ title: 'Renamed', idle: 1 });
        throw new Error('refused');
      })).rejects.toThrow('refused');
      const [row] = await session.query<{ title: string }>(`SELECT title FROM stories WHERE id = $1`, [storyId]);
      expect(row!.title).toBe('Renamed');
    } finally {
      await session.finish(true);
    }
    expect(await title()).toBe('Renamed');
  });
});
