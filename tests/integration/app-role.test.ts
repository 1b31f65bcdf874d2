/**
 * The login role and the cluster-wide app role (storyforge_app). A login role that is neither
 * a member of storyforge_app nor able to create or grant it (no CREATEROLE) must fail at start
 * with one message saying what to run, before any migration; once an administrator has granted
 * the role, the least privilege the README documents (owner of its database, no CREATEROLE, no
 * superuser) runs every migration and serves tenant transactions.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { APP_ROLE } from '../../src/db/app-role';
import { createDataSource } from '../../src/db/data-source';
import { ensureAppRole, migrate } from '../../src/db/database';
import { StatementStats } from '../../src/db/statement-stats';
import { withTenant } from '../../src/db/tenant-session';
import { Logger } from '../../src/util/logger';
import { adminUrl, withDatabase } from '../support/postgres';

describe('a login role without CREATEROLE', () => {
  const user = `sf_limited_${randomBytes(5).toString('hex')}`;
  const database = `sf_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl() });
  let dataSource: DataSource;
  const quiet = new Logger('error', {}, () => undefined);

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${user} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${user}`);
    const url = new URL(withDatabase(adminUrl(), database));
    url.username = user;
    url.password = '';
    dataSource = createDataSource({ url: url.toString(), stats: new StatementStats(), poolSize: 2 });
    await dataSource.initialize();
  });
  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${user}`);
    await admin.end();
  });

  it(`fails before any migration, saying to grant ${APP_ROLE} or CREATEROLE`, async () => {
    const started = migrate(dataSource, quiet);
    await expect(started).rejects.toThrow(`database user "${user}"`);
    const message = (await started.catch((e: Error) => e)) as Error;
    expect(message.message).toContain('CREATEROLE');
    expect(message.message).toContain(`GRANT ${APP_ROLE} TO "${user}";`);
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_tables t JOIN pg_namespace n ON n.nspname = t.schemaname
      WHERE t.tableowner = $1`, [user]);
    expect(rows[0].n).toBe(0);
  });

  it('says how to create the app role when the cluster does not have it yet', async () => {
    // A role name no cluster has, so this does not depend on whether another test database made storyforge_app.
    const missing = `sf_app_missing_${randomBytes(5).toString('hex')}`;
    const runner = dataSource.createQueryRunner();
    try {
      await expect(ensureAppRole(runner, missing)).rejects.toThrow(
        `database user "${user}" cannot create the cluster-wide role ${missing} (that needs CREATEROLE)`);
      await expect(ensureAppRole(runner, missing)).rejects.toThrow(`CREATE ROLE ${missing} NOLOGIN NOSUPERUSER NOINHERIT NOBYPASSRLS; GRANT ${missing} TO "${user}";`);
    } finally {
      await runner.release();
    }
    expect((await admin.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [missing])).rows).toEqual([]);
  });

  it(`migrates and serves tenant transactions once an administrator granted ${APP_ROLE}`, async () => {
    try {
      await admin.query(`CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOINHERIT NOBYPASSRLS`);
    } catch (error) {
      if (!['42710', '23505'].includes((error as { code?: string }).code ?? '')) throw error; // made by another test database
    }
    await admin.query(`GRANT ${APP_ROLE} TO ${user}`);
    expect((await migrate(dataSource, quiet)).length).toBeGreaterThan(0);
    const [{ id }] = await dataSource.query(`INSERT INTO projects (name) VALUES ('p') RETURNING id`);
    const seen = await withTenant(dataSource, id, (s) => s.query<{ role: string; n: number }>(
      `SELECT current_user AS role, (SELECT count(*)::int FROM projects) AS n`));
    expect(seen).toEqual([{ role: APP_ROLE, n: 1 }]);
  });
});
