import type { Config } from './config';
import { Database, openDatabase } from './db/database';
import { ApiServer, createApiServer } from './api/server';
import type { Logger } from './util/logger';

export interface App {
  database: Database;
  api: ApiServer;
  port: number;
  url: string;
  /** Graceful: stop taking requests, drain HTTP and sockets, close the pool, stop embedded PG. */
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const database = await openDatabase(config, log);
  let api: ApiServer;
  let port: number;
  try {
    api = await createApiServer(config, database.dataSource, log);
    port = await api.listen(config.port, config.host);
  } catch (error) {
    await database.close();
    throw error;
  }
  const url = `http://localhost:${port}/graphql`;
  log.info('listening', { url, embeddedDatabase: !config.databaseUrl });
  let stopping: Promise<void> | undefined;
  return {
    database, api, port, url,
    stop: () => (stopping ??= (async () => {
      log.info('shutting down');
      await api.stop();
      await database.close();
      log.info('stopped');
    })()),
  };
}

/** SIGINT/SIGTERM stop the app gracefully; a second signal or the timeout forces the exit. */
export function stopOnSignals(app: App, log: Logger, timeoutMs: number): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.exitCode !== undefined) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    process.exitCode = 0;
    log.info('signal received', { signal });
    const timer = setTimeout(() => {
      log.error('shutdown timed out', { timeoutMs });
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    app.stop().then(
      () => process.exit(0),
      (error) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
