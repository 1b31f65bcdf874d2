import { Client } from 'pg';

/** Where the test PostgreSQL's admin connection lives; set by global-setup for every test file. */
export const ADMIN_URL_ENV = 'STORYFORGE_TEST_ADMIN_URL';
export const LOCAL_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function adminUrl(): string {
  const url = process.env[ADMIN_URL_ENV];
  if (!url) throw new Error(`${ADMIN_URL_ENV} is unset: run the tests through jest (global-setup sets it)`);
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}
