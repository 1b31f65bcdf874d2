import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { APP_ROLE } from '../../src/db/app-role';
import { withTenant } from '../../src/db/tenant-session';
import { TestDatabase, createTestDatabase } from '../support/test-db';

/** Raw SQL in a transaction scoped the way the app scopes it; returns what `sql` returns. */
async function asTenant(client: Client, projectId: string | null, sql: string, params: unknown[] = []) {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('app.project_id', $1, true), set_config('role', $2, true)`, [projectId ?? '', APP_ROLE]);
    return (await client.query(sql, params)).rows;
  } finally {
    await client.query('ROLLBACK');
  }
}

describe('row-level security', () => {
  let db: TestDatabase;
  const a = randomUUID();
  const b = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const [id, name] of [[a, 'A'], [b, 'B']]) {
      await db.owner.query(`INSERT INTO projects (id, name) VALUES ($1, $2)`, [id, name]);
      await db.owner.query(
        `INSERT INTO characters (project_id, name, description, seed) VALUES ($1, $2, 'someone', 1), ($1, $3, 'someone else', 2)`,
        [id, `${name}-one`, `${name}-two`]);
      await db.owner.query(`INSERT INTO stories (project_id, title, model, width, height, steps, guidance, scheduler, seed)
        VALUES ($1, $2, 'story-world', 64, 64, 10, 5, 'ddim', 1)`, [id, `${name} story`]);
    }
  });
  afterAll(() => db.drop());

  it('shows a query without any project filter only the current project rows', async () => {
    const rows = await asTenant(db.owner, a, `SELECT name FROM characters ORDER BY name`);
    expect(rows.map((r) => r.name)).toEqual(['A-one', 'A-two']);
    const stories = await asTenant(db.owner, b, `SELECT title FROM stories`);
    expect(stories.map((r) => r.title)).toEqual(['B story']);
    const projects = await asTenant(db.owner, a, `SELECT id FROM projects`);
    expect(projects.map((r) => r.id)).toEqual([a]);
  });

  it('shows nothing at all when no project is set', async () => {
    expect(await asTenant(db.owner, null, `SELECT * FROM characters`)).toEqual([]);
    expect(await asTenant(db.owner, null, `SELECT * FROM projects`)).toEqual([]);
  });

  it('cannot write a row into another project, nor touch its rows', async () => {
    await expect(asTenant(db.owner, a,
      `INSERT INTO characters (project_id, name, description, seed) VALUES ($1, 'intruder', 'x', 1)`, [b]))
      .rejects.toThrow(/row-level security/);
    const updated = await asTenant(db.owner, a, `UPDATE characters SET description = 'hacked' WHERE project_id = $1 RETURNING id`, [b]);
    expect(updated).toEqual([]);
    const deleted = await asTenant(db.owner, a, `DELETE FROM stories RETURNING project_id`);
    expect(deleted.map((r) => r.project_id)).toEqual([a]); // rolled back by asTenant
    const untouched = await db.owner.query(`SELECT count(*)::int AS n FROM characters WHERE description = 'hacked'`);
    expect(untouched.rows[0].n).toBe(0);
  });

  it('is what TenantSession sets up: the app role, the project, nothing of another project', async () => {
    const seen = await withTenant(db.dataSource, a, async (session) => ({
      who: (await session.query<{ role: string; project: string }>(
        `SELECT current_user AS role, current_setting('app.project_id') AS project`))[0],
      names: (await session.query<{ name: string }>(`SELECT name FROM characters ORDER BY name`)).map((r) => r.name),
    }));
    expect(seen).toEqual({ who: { role: APP_ROLE, project: a }, names: ['A-one', 'A-two'] });
  });

  it('leaves a pooled connection unscoped after the transaction', async () => {
    await withTenant(db.dataSource, a, (session) => session.query(`SELECT 1`));
    const rows: { role: string; project: string | null }[] = await db.dataSource.query(
      `SELECT current_user AS role, nullif(current_setting('app.project_id', true), '') AS project`);
    expect(rows[0].role).not.toBe(APP_ROLE);
    expect(rows[0].project).toBeNull();
  });
});
