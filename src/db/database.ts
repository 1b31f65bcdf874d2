import type { DataSource } from 'typeorm';
import { Config, embeddedPgDir } from '../config';
import type { Logger } from '../util/logger';
import { createDataSource } from './data-source';
import { startEmbeddedPostgres } from './embedded-postgres';
import { StatementStats } from './statement-stats';

export interface Database {
  dataSource: DataSource;
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
  const dataSource = createDataSource({ url: config.databaseUrl ?? embedded!.url, poolSize: config.poolSize, stats });
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
    stats,
    close: async () => {
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

export async function migrate(dataSource: DataSource, log: Logger): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  const names = applied.map((m) => m.name);
  log.info('migrations', { applied: names });
  return names;
}
