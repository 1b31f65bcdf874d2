/**
 * `storyforge worker`: generation workers without HTTP, for more machines sharing the database.
 * It takes jobs of every model pack under STORYFORGE_MODELS_DIR (so a machine takes only jobs of
 * the packs it holds), with STORYFORGE_WORKERS compute threads (at least one) on the providers of
 * STORYFORGE_EXECUTION_PROVIDERS (the GPU of STORYFORGE_CUDA_DEVICE for `cuda`). With
 * STORYFORGE_METRICS_PORT it serves its /metrics there (behind STORYFORGE_METRICS_TOKEN when set).
 */
import type { Config } from '../config';
import { openDatabase } from '../db/database';
import { createGeneration } from '../generation';
import type { Logger } from '../util/logger';
import { lowerPriority } from '../util/process-priority';
import { ensureWritableDataDir } from '../util/data-dir';
import { startGenerationWorkers } from '../workers/generation-workers';
import { checkExecutionProviders } from '../workers/compute/provider-check';
import { Metrics } from '../metrics/registry';
import { MetricsServer, startMetricsServer } from '../metrics/metrics-server';

export async function runWorker(config: Config, log: Logger): Promise<void> {
  // Signals are caught from the first moment: one that arrives while the worker starts stops it
  // as soon as it has started (instead of killing it half-way, with a queue connection open).
  let stopping = false;
  let shutdown: ((signal: NodeJS.Signals) => void) | undefined;
  let pending: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    if (shutdown) shutdown(signal);
    else pending = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Before the database: a host that cannot run its providers (STORYFORGE_EXECUTION_PROVIDERS)
  // refuses with one line and never touches the queue. startGenerationWorkers checks again
  // (the server's path); the result is kept, so the check runs once.
  await checkExecutionProviders(config);
  // After the provider check (a host that cannot run says only that), before any compute thread
  // exists: Linux keeps a nice value per thread, and new threads
  // (compute threads, ONNX Runtime's, libuv's) take their creator's. An API process on the same
  // host then gets the CPU first and stays responsive while pictures are made.
  lowerPriority(config.workerNice, log);
  ensureWritableDataDir(config.dataDir);
  const database = await openDatabase(config, log);
  const generation = createGeneration(config, database.url, log);
  const metrics = new Metrics(database.dataSource, log);
  let workers;
  let metricsServer: MetricsServer | undefined;
  try {
    workers = await startGenerationWorkers({ ...config, workers: Math.max(1, config.workers) }, database.dataSource, generation, log, metrics);
    if (config.metricsPort !== undefined) {
      metricsServer = await startMetricsServer(metrics, { port: config.metricsPort, host: config.host, token: config.metricsToken }, log);
    }
  } catch (error) {
    await workers?.stop(0).catch(() => undefined);
    await generation.queue.stop(0).catch(() => undefined);
    await database.close();
    throw error;
  }
  const started = workers;
  shutdown = (signal: NodeJS.Signals) => {
    log.info('signal received', { signal });
    const timer = setTimeout(() => process.exit(1), config.shutdownTimeoutMs);
    timer.unref();
    started.stop(config.shutdownTimeoutMs / 2)
      .then(() => metricsServer?.close())
      .then(() => database.close())
      .then(() => process.exit(0), (error) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      });
  };
  if (pending) shutdown(pending);
}
