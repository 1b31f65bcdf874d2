import { TestDatabase, createTestDatabase } from '../support/test-db';

const TABLES = [
  'api_keys', 'characters', 'frames', 'generation_jobs', 'images', 'projects', 'reference_image_sets',
  'reference_images', 'renders', 'stories', 'story_characters',
];

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
    expect(first.map((m) => m.name)).toEqual(['InitialSchema1764400000000']);
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
      if (row.table !== 'projects') expect({ table: row.table, notNull: row.project_not_null }).toEqual({ table: row.table, notNull: true });
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

  it('revert cleanly and apply again', async () => {
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    const left = await db.owner.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    expect(left.rows.map((r) => r.tablename)).toEqual(['migrations']);
    const again = await db.dataSource.runMigrations({ transaction: 'each' });
    expect(again).toHaveLength(1);
  });
});
