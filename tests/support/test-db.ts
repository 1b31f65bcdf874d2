import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { StatementStats } from '../../src/db/statement-stats';
import { adminUrl, withDatabase } from './postgres';

export interface TestDatabase {
  name: string;
  url: string;
  dataSource: DataSource;
  stats: StatementStats;
  /** A raw client on the same database, connected as the login (owner) role: bypasses RLS. */
  owner: Client;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database for one test file; `migrate` runs the real migrations on it. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `sf_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(adminUrl(), name);
  const stats = new StatementStats();
  const dataSource = createDataSource({ url, stats, poolSize: 5, applicationName: 'storyforge-test' });
  await dataSource.initialize();
  if (options.migrate ?? true) await dataSource.runMigrations({ transaction: 'each' });
  const owner = new Client({ connectionString: url });
  await owner.connect();
  return {
    name, url, dataSource, stats, owner,
    drop: async () => {
      await owner.end();
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
