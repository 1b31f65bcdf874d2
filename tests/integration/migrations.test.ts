import { createDataSource } from '../../src/db/data-source';
import { migrate } from '../../src/db/database';
import { StatementStats } from '../../src/db/statement-stats';
import { MIGRATIONS } from '../../src/db/migrations';
import { Logger } from '../../src/util/logger';
import { TestDatabase, createTestDatabase } from '../support/test-db';

const TABLES = [
  'api_keys', 'character_anchors', 'characters', 'frames', 'generation_jobs', 'image_file_deletions', 'images', 'projects', 'reference_image_sets',
  'reference_images', 'renders', 'stories', 'story_characters', 'story_pages', 'styles', 'webhook_deliveries', 'webhook_messages', 'webhooks', 'workers',
];
/** Tables of the platform, not of a project: no project_id (their policy lets the app role read, never write). */
const PLATFORM_TABLES = ['projects', 'workers'];

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('build the schema on an empty database, then run again as a no-op', async () => {
    const before = await db.owner.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    expect(before.rows[0].n).toBe(0);

    const first = await db.dataSource.runMigrations({ transaction: 'each' });
    expect(first.map((m) => m.name)).toEqual(['InitialSchema1764400000000', 'GenerationJobs1764500000000', 'Webhooks1764600000000',
      'IdempotencyRequest1764700000000', 'ImageFileDeletions1764800000000', 'CharacterPackRate1764900000000', 'StoryModels1765000000000', 'RenderVariations1765100000000',
      'StylesNegativePrompts1765200000000', 'ReferenceCrops1765300000000', 'StoryPages1765400000000', 'JobProgressPhase1765500000000']);
    const tables = await db.owner.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    expect(tables.rows.map((r) => r.tablename)).toEqual(['migrations', ...TABLES].sort());

    const second = await db.dataSource.runMigrations({ transaction: 'each' });
    expect(second).toEqual([]);
    expect(await db.dataSource.showMigrations()).toBe(false);
  });

  it('put project_id NOT NULL and row-level security on every tenant table', async () => {
    const rows = await db.owner.query(`
      SELECT c.relname AS table, c.relrowsecurity AS rls,
             (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'project_id') AS project_not_null,
             (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'migrations' ORDER BY 1`);
    for (const row of rows.rows) {
      expect({ table: row.table, rls: row.rls, policies: row.policies }).toEqual({ table: row.table, rls: true, policies: 1 });
      if (!PLATFORM_TABLES.includes(row.table)) expect({ table: row.table, notNull: row.project_not_null }).toEqual({ table: row.table, notNull: true });
    }
    expect(rows.rows).toHaveLength(TABLES.length);
  });

  it('index every foreign key (so deletes and lookups by parent never scan)', async () => {
    const unindexed = await db.owner.query(`
      SELECT c.conrelid::regclass::text AS table, c.conname
      FROM pg_constraint c
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        AND NOT EXISTS (
          SELECT 1 FROM pg_index i
          WHERE i.indrelid = c.conrelid AND (i.indkey::int2[])[0] = c.conkey[1]
        )`);
    // api_keys.project_id, images.project_id etc. lead composite indexes; the rest have their own.
    expect(unindexed.rows).toEqual([]);
  });

  it("turn a story's free-text style into a project style of that name, so it renders as before", async () => {
    await db.dataSource.undoLastMigration({ transaction: 'each' }); // job progress phase
    await db.dataSource.undoLastMigration({ transaction: 'each' }); // story pages
    await db.dataSource.undoLastMigration({ transaction: 'each' }); // reference crops
    await db.dataSource.undoLastMigration({ transaction: 'each' }); // styles
    const { rows: [p] } = await db.owner.query(`INSERT INTO projects (name) VALUES ('styles') RETURNING id`);
    for (const style of ['watercolor, soft light', 'Cinematic', '']) {
      await db.owner.query(`INSERT INTO stories (project_id, title, style, model, width, height, steps, guidance, scheduler, seed)
        VALUES ($1, 't', $2, 'story-world', 256, 256, 10, 5, 'ddim', 1)`, [p.id, style]);
    }
    await db.dataSource.runMigrations({ transaction: 'each' });
    const styles = await db.owner.query(`SELECT name, template FROM styles WHERE project_id = $1`, [p.id]);
    // A built-in name stays the built-in style; an empty one is no style.
    expect(styles.rows).toEqual([{ name: 'watercolor, soft light', template: '{prompt} watercolor, soft light' }]);
    await db.owner.query(`DELETE FROM projects WHERE id = $1`, [p.id]);
  });

  it('revert cleanly and apply again', async () => {
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const progress = await db.owner.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'generation_jobs'
      AND column_name IN ('progress_phase', 'progress_fraction', 'banks_done', 'banks_total', 'frames_running')`);
    expect(progress.rows).toEqual([]);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const pages = await db.owner.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'story_pages'`);
    expect(pages.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const crops = await db.owner.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'reference_images' AND column_name LIKE 'crop_%'`);
    expect(crops.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const styles = await db.owner.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'styles'`);
    expect(styles.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const variation = await db.owner.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'renders' AND column_name = 'variation'`);
    expect(variation.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const storyModel = await db.owner.query(`SELECT table_name FROM information_schema.columns WHERE column_name = 'model' AND table_name IN ('stories', 'characters')`);
    expect(storyModel.rows).toEqual([{ table_name: 'characters' }]);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const rate = await db.owner.query(`SELECT is_nullable FROM information_schema.columns WHERE table_name = 'characters' AND column_name = 'sampling_rate'`);
    expect(rate.rows[0].is_nullable).toBe('NO');
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const deletions = await db.owner.query(`SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'queue_image_file_deletion'`);
    expect(deletions.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const column = await db.owner.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name = 'idempotency_request'`);
    expect(column.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const hooks = await db.owner.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'webhook%'`);
    expect(hooks.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const queue = await db.owner.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgboss'`);
    expect(queue.rows[0].n).toBe(0);
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const left = await db.owner.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    expect(left.rows.map((r) => r.tablename)).toEqual(['migrations']);
    const again = await db.dataSource.runMigrations({ transaction: 'each' });
    expect(again).toHaveLength(MIGRATIONS.length);
  });
});

describe('ON DELETE rules', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('delete a whole project, however its rows reference each other, and only that project', async () => {
    const seed = async (name: string) => {
      const { rows: [p] } = await db.owner.query(`INSERT INTO projects (name) VALUES ($1) RETURNING id`, [name]);
      const { rows: [c] } = await db.owner.query(`INSERT INTO characters (project_id, name, description, seed) VALUES ($1, 'c', 'd', 1) RETURNING id`, [p.id]);
      const { rows: [s] } = await db.owner.query(`INSERT INTO stories (project_id, title, model, width, height, steps, guidance, scheduler, seed)
        VALUES ($1, 't', 'story-world', 64, 64, 10, 5, 'ddim', 1) RETURNING id`, [p.id]);
      await db.owner.query(`INSERT INTO story_characters (story_id, character_id, project_id, position) VALUES ($1, $2, $3, 0)`, [s.id, c.id, p.id]);
      const { rows: [f] } = await db.owner.query(`INSERT INTO frames (project_id, story_id, position, prompt) VALUES ($1, $2, 1, 'p') RETURNING id`, [p.id, s.id]);
      const { rows: [i] } = await db.owner.query(`INSERT INTO images (project_id, content_hash, mime, width, height, byte_size, storage_key)
        VALUES ($1, repeat('a', 64), 'image/png', 1, 1, 1, 'k') RETURNING id`, [p.id]);
      const { rows: [set] } = await db.owner.query(`INSERT INTO reference_image_sets (project_id, name) VALUES ($1, 'refs') RETURNING id`, [p.id]);
      await db.owner.query(`INSERT INTO reference_images (project_id, set_id, image_id, position) VALUES ($1, $2, $3, 0)`, [p.id, set.id, i.id]);
      const { rows: [j] } = await db.owner.query(`INSERT INTO generation_jobs (project_id, kind, story_id) VALUES ($1, 'story', $2) RETURNING id`, [p.id, s.id]);
      await db.owner.query(`INSERT INTO renders (project_id, frame_id, job_id, image_id, thumbnail_image_id, prompt, seed, steps, guidance, scheduler, model, width, height, is_current)
        VALUES ($1, $2, $3, $4, $4, 'p', 1, 10, 5, 'ddim', 'm', 1, 1, true)`, [p.id, f.id, j.id, i.id]);
      const { rows: [w] } = await db.owner.query(`INSERT INTO webhooks (project_id, url, events, secret_sealed, secret_key_id, secret_prefix)
        VALUES ($1, 'https://example.com/h', '{story.updated}', '\\x00', repeat('0', 16), 'whsec_') RETURNING id`, [p.id]);
      const { rows: [m] } = await db.owner.query(`INSERT INTO webhook_messages (project_id, webhook_id, event, event_id, body)
        VALUES ($1, $2, 'story.updated', gen_random_uuid(), '{}') RETURNING id, event_id`, [p.id, w.id]);
      await db.owner.query(`INSERT INTO webhook_deliveries (project_id, webhook_id, message_id, event, event_id, attempt, duration_ms)
        VALUES ($1, $2, $3, 'story.updated', $4, 1, 5)`, [p.id, w.id, m.id, m.event_id]);
      return p.id as string;
    };
    const doomed = await seed('doomed');
    const kept = await seed('kept');
    await db.owner.query(`DELETE FROM projects WHERE id = $1`, [doomed]);
    for (const table of ['characters', 'stories', 'story_characters', 'frames', 'images', 'reference_images', 'renders', 'generation_jobs',
      'webhooks', 'webhook_messages', 'webhook_deliveries']) {
      const { rows } = await db.owner.query(`SELECT project_id, count(*)::int AS n FROM ${table} GROUP BY 1`);
      expect({ table, rows }).toEqual({ table, rows: [{ project_id: kept, n: 1 }] });
    }
    // The deleted project's image files are queued for removal (no foreign key keeps them from it).
    const { rows: queued } = await db.owner.query(`SELECT project_id, storage_key FROM image_file_deletions`);
    expect(queued).toEqual([{ project_id: doomed, storage_key: 'k' }]);
  });

  it('refuse to delete an image a render still uses, and keep one current render per frame', async () => {
    const { rows: [r] } = await db.owner.query(`SELECT image_id, frame_id, project_id FROM renders LIMIT 1`);
    // Both deferred keys refuse it; which one PostgreSQL names first follows its triggers' names,
    // which carry OIDs from the (shared, growing) cluster counter, so either may come first.
    await expect(db.owner.query(`DELETE FROM images WHERE id = $1`, [r.image_id])).rejects.toThrow(/reference_images_image_fkey|renders_image_fkey/);
    await db.owner.query(`DELETE FROM reference_images`);
    await expect(db.owner.query(`DELETE FROM images WHERE id = $1`, [r.image_id])).rejects.toThrow(/renders_image_fkey/);
    await expect(db.owner.query(`INSERT INTO renders (project_id, frame_id, image_id, prompt, seed, steps, guidance, scheduler, model, width, height, is_current)
      VALUES ($1, $2, $3, 'p', 2, 10, 5, 'ddim', 'm', 1, 1, true)`, [r.project_id, r.frame_id, r.image_id])).rejects.toThrow(/renders_one_current_per_frame/);
  });
});

describe('migrate() from several processes at once', () => {
  it('applies the migrations once; the others wait and find nothing to do', async () => {
    const first = await createTestDatabase({ migrate: false });
    const others = await Promise.all([1, 2].map(async () => {
      const ds = createDataSource({ url: first.url, stats: new StatementStats(), poolSize: 2 });
      await ds.initialize();
      return ds;
    }));
    try {
      const log = new Logger('error', {}, () => undefined);
      const results = await Promise.all([first.dataSource, ...others].map((ds) => migrate(ds, log)));
      expect(results.map((r) => r.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
    } finally {
      await Promise.all(others.map((ds) => ds.destroy()));
      await first.drop();
    }
  });
});
