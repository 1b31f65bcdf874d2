import type { Config } from './config';
import { Database, openDatabase } from './db/database';
import { ApiServer, createApiServer } from './api/server';
import type { Logger } from './util/logger';
import { Generation, createGeneration } from './generation';
import { checkExecutionProviders } from './workers/compute/provider-check';
import { GenerationWorkers, startGenerationWorkers } from './workers/generation-workers';
import { webhookSettings } from './webhooks/webhook-settings';
import { ImageJanitor } from './storage/image-janitor';
import { ensureWritableDataDir } from './util/data-dir';
import { Metrics } from './metrics/registry';
import { MetricsServer, metricsPlacement, startMetricsServer } from './metrics/metrics-server';

export interface App {
  database: Database;
  api: ApiServer;
  generation: Generation;
  /** Undefined when STORYFORGE_WORKERS is 0 (an API-only process). */
  workers: GenerationWorkers | undefined;
  /** The process's metrics: API and workers record into them. */
  metrics: Metrics;
  /** The port of /metrics when STORYFORGE_METRICS_PORT gives it one of its own. */
  metricsPort: number | undefined;
  port: number;
  url: string;
  /** Graceful: stop taking requests, drain HTTP and sockets, close the pool, stop embedded PG. */
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  // A machine that cannot run what it is configured for says so before it touches the database.
  if (config.workers > 0) await checkExecutionProviders(config);
  ensureWritableDataDir(config.dataDir);
  const database = await openDatabase(config, log);
  const generation = createGeneration(config, database.url, log);
  const metrics = new Metrics(database.dataSource, log);
  let api: ApiServer;
  let port: number;
  let workers: GenerationWorkers | undefined;
  let metricsServer: MetricsServer | undefined;
  try {
    api = await createApiServer({ ...config, webhooks: webhookSettings(config), metrics }, database.dataSource, log, generation);
    workers = config.workers > 0 ? await startGenerationWorkers(config, database.dataSource, generation, log, metrics) : undefined;
    if (metricsPlacement(config) === 'own-port') {
      metricsServer = await startMetricsServer(metrics, { port: config.metricsPort!, host: config.host, token: config.metricsToken }, log);
    }
    port = await api.listen(config.port, config.host);
  } catch (error) {
    await metricsServer?.close().catch(() => undefined);
    await workers?.stop(0).catch(() => undefined);
    await generation.queue.stop(0).catch(() => undefined);
    await database.close();
    throw error;
  }
  const url = `http://localhost:${port}/graphql`;
  log.info('listening', { url, embeddedDatabase: !config.databaseUrl });
  const janitor = new ImageJanitor({
    dataSource: database.dataSource, store: generation.images, graceSeconds: config.imageDeleteGraceSeconds,
    unusedImageSeconds: config.unusedUploadSeconds, log: log.child({ component: 'image-janitor' }),
  });
  janitor.start();
  let stopping: Promise<void> | undefined;
  return {
    database, api, generation, workers, metrics, metricsPort: metricsServer?.port, port, url,
    stop: () => (stopping ??= (async () => {
      log.info('shutting down');
      await api.stop();
      await metricsServer?.close();
      await janitor.stop();
      // Running jobs get the rest of the shutdown time; what is left is failed and retried later.
      if (workers) await workers.stop(config.shutdownTimeoutMs / 2);
      else await generation.queue.stop(1000);
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
