import type { DataSource, QueryRunner } from 'typeorm';
import { Config, embeddedPgDir } from '../config';
import type { Logger } from '../util/logger';
import { APP_ROLE } from './app-role';
import { createDataSource } from './data-source';
import { startEmbeddedPostgres } from './embedded-postgres';
import { StatementStats } from './statement-stats';

export interface Database {
  dataSource: DataSource;
  /** The connection URL (the queue keeps its own small pool on it). */
  url: string;
  stats: StatementStats;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts the embedded server when it is unset, and brings the
 * schema up to date. `close` ends the pool, then the embedded server if one was started.
 */
export async function openDatabase(config: Config, log: Logger, options: { migrate?: boolean } = {}): Promise<Database> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(embeddedPgDir(config), log);
  const stats = new StatementStats();
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = createDataSource({ url, poolSize: config.poolSize, stats });
  try {
    await dataSource.initialize();
    if (options.migrate ?? true) await migrate(dataSource, log);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    url,
    stats,
    close: async () => {
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/** Any fixed number: the advisory lock that lets one process at a time migrate. */
const MIGRATION_LOCK = 7_316_842_011;

/** Several API processes may start at once; the advisory lock makes the others wait, then find nothing to do. */
export async function migrate(dataSource: DataSource, log: Logger): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await ensureAppRole(lock);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    const names = applied.map((m) => m.name);
    log.info('migrations', { applied: names });
    return names;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';
const DUPLICATE_OBJECT = '42710';
const UNIQUE_VIOLATION = '23505';

function pgCode(error: unknown): string | undefined {
  const e = error as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code;
}

/**
 * Every request runs as APP_ROLE (row-level security applies to it, not to the tables' owner), so
 * the login role must be a member of it. The role is cluster-wide: the first start creates it,
 * which needs CREATEROLE (or an administrator creates it and grants it beforehand; README,
 * "Database privileges"). Checked before any migration, at every start, so a login role that
 * cannot do it fails with one message that says what to run, not halfway through a migration.
 */
export async function ensureAppRole(q: Pick<QueryRunner, 'query'>, role = APP_ROLE): Promise<void> {
  const state = async () => ((await q.query(
    `SELECT current_user AS "user", r.oid IS NOT NULL AS "exists",
       r.oid IS NOT NULL AND pg_has_role(current_user, r.oid, 'MEMBER') AS "member"
     FROM (SELECT 1) one LEFT JOIN pg_roles r ON r.rolname = $1`, [role])) as { user: string; exists: boolean; member: boolean }[])[0]!;
  let { user, exists, member } = await state();
  if (member) return;
  const who = `"${user.replace(/"/g, '""')}"`;
  const adminFix = `an administrator runs, once: ${exists ? '' : `CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOINHERIT NOBYPASSRLS; `}GRANT ${role} TO ${who};`;
  try {
    if (!exists) {
      try {
        await q.query(`CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOINHERIT NOBYPASSRLS`);
      } catch (error) {
        // Another database of the cluster starting at the same moment made it first.
        if (pgCode(error) !== DUPLICATE_OBJECT && pgCode(error) !== UNIQUE_VIOLATION) throw error;
      }
      ({ exists, member } = await state());
      if (member) return;
    }
    await q.query(`GRANT ${role} TO ${who}`);
  } catch (error) {
    if (pgCode(error) !== INSUFFICIENT_PRIVILEGE) throw error;
    const what = exists
      ? `is not a member of the role ${role} and cannot grant it to itself (that needs CREATEROLE, and on PostgreSQL 16+ ADMIN OPTION on ${role})`
      : `cannot create the cluster-wide role ${role} (that needs CREATEROLE)`;
    throw new Error(`database user ${who} ${what}. StoryForge runs every request as ${role} so that row-level security applies. `
      + `Either give ${who} CREATEROLE for the first start (ALTER ROLE ${who} CREATEROLE), or ${adminFix} Then start again.`, { cause: error });
  }
}
