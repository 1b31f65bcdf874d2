import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { Logger } from '../../src/util/logger';
import { ADMIN_URL_ENV, LOCAL_ADMIN_URL, answers } from './postgres';

/**
 * Finds a real PostgreSQL for the run: TEST_DATABASE_URL if given, else 127.0.0.1:5432 when it
 * answers, else an embedded server under .data/test-pg (STORYFORGE_TEST_EMBEDDED=1 forces that).
 * Each test file then makes its own database on it.
 */
export default async function globalSetup(): Promise<void> {
  const log = new Logger('warn');
  const forced = process.env.STORYFORGE_TEST_EMBEDDED === '1';
  const given = process.env.TEST_DATABASE_URL;
  let label = 'local server';
  if (given && !forced) {
    process.env[ADMIN_URL_ENV] = given;
    label = 'TEST_DATABASE_URL';
  } else if (!forced && (await answers(LOCAL_ADMIN_URL))) {
    process.env[ADMIN_URL_ENV] = LOCAL_ADMIN_URL;
  } else {
    label = 'embedded';
    const embedded = await startEmbeddedPostgres(join(__dirname, '..', '..', '.data', 'test-pg', 'pg'), log);
    (globalThis as { __embeddedPg?: { stop(): Promise<void> } }).__embeddedPg = embedded;
    process.env[ADMIN_URL_ENV] = embedded.url;
  }
  process.stdout.write(`\n[tests] PostgreSQL: ${label} at ${new URL(process.env[ADMIN_URL_ENV]!).host}\n`);
}
