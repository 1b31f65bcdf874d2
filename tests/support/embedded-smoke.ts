/**
 * Run in a child process by the embedded-postgres test: opens the database exactly as the app
 * does with DATABASE_URL unset, twice, and prints what it saw as one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db/database';
import { withTenant } from '../../src/db/tenant-session';
import { Logger } from '../../src/util/logger';

async function main(): Promise<void> {
  const config = loadConfig({ STORYFORGE_DATA_DIR: process.argv[2] });
  if (config.databaseUrl) throw new Error('DATABASE_URL must be unset for this check');
  const log = new Logger('warn');
  const a = randomUUID();
  const b = randomUUID();

  const first = await openDatabase(config, log);
  const version = (await first.dataSource.query(`SELECT current_setting('server_version') AS v`))[0].v as string;
  const applied = (await first.dataSource.query(`SELECT name FROM migrations`)).map((r: { name: string }) => r.name);
  await first.dataSource.query(`INSERT INTO projects (id, name) VALUES ($1, 'A'), ($2, 'B')`, [a, b]);
  await first.dataSource.query(`INSERT INTO characters (project_id, name, description, seed) VALUES ($1, 'only-a', 'x', 1), ($2, 'only-b', 'x', 1)`, [a, b]);
  await first.close();

  const second = await openDatabase(config, log);
  const pending = await second.dataSource.showMigrations();
  const seenByA = await withTenant(second.dataSource, a, (s) => s.query<{ name: string }>(`SELECT name FROM characters`));
  await second.close();

  process.stdout.write(JSON.stringify({ version, applied, pendingAfterRestart: pending, seenByA: seenByA.map((r) => r.name) }) + '\n');
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n');
  process.exit(1);
});
