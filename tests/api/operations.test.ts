import { Client } from 'pg';
import { startApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createApiServer } from '../../src/api/server';
import { Logger } from '../../src/util/logger';
import { adminUrl } from '../support/postgres';
import { createTestDatabase } from '../support/test-db';

async function connectionsTo(database: string): Promise<number> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'storyforge'`, [database]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe('operations', () => {
  it('serves /healthz and /readyz, and shuts down gracefully: sockets closed, pool ended', async () => {
    const db = await createTestDatabase({ migrate: false });
    await db.dataSource.destroy();
    const lines: string[] = [];
    const log = new Logger('info', {}, (line) => lines.push(line));
    const config = { ...loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1' }), platformKey: 'sfp_test-platform-key-0123456789' };
    const app = await startApp(config, log);
    try {
      const base = `http://127.0.0.1:${app.port}`;
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(lines.some((l) => JSON.parse(l).msg === 'migrations')).toBe(true);

      const created = await (await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${config.platformKey}` },
        body: JSON.stringify({ query: 'mutation { createProject(input: { name: "Ops" }) { secret } }' }),
      })).json() as { data: { createProject: { secret: string } } };
      const { createClient } = await import('graphql-ws');
      const { default: WebSocket } = await import('ws');
      let closeCode: number | undefined;
      const ws = createClient({ url: `ws://127.0.0.1:${app.port}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
        connectionParams: { apiKey: created.data.createProject.secret },
        onNonLazyError: () => undefined, on: { closed: (event) => { closeCode = (event as { code: number }).code; } } });
      await new Promise<void>((resolve) => ws.on('connected', () => resolve()));
      expect(await connectionsTo(db.name)).toBeGreaterThan(0);

      await app.stop();
      await new Promise((r) => setTimeout(r, 50));
      expect(closeCode).toBe(1001); // going away: the server closed it
      expect(app.database.dataSource.isInitialized).toBe(false);
      expect(await connectionsTo(db.name)).toBe(0);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
      expect(lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
      await ws.dispose();
    } finally {
      await app.stop();
      await db.drop();
    }
  });

  it('answers /readyz 503 when the database is unreachable', async () => {
    const db = await createTestDatabase();
    const server = await createApiServer({ platformKey: undefined, maxBodyBytes: 1000, rateLimitPerMinute: 0, maxQueryCost: 100 },
      db.dataSource, new Logger('error', {}, () => undefined));
    const port = await server.listen(0, '127.0.0.1');
    try {
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      await db.dataSource.destroy();
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(response.status).toBe(503);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});
