import type { DataSource } from 'typeorm';
import { Config, embeddedPgDir } from '../config';
import type { Logger } from '../util/logger';
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
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    const names = applied.map((m) => m.name);
    log.info('migrations', { applied: names });
    return names;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
}
