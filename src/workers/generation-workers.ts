/**
 * Workers of one process: the compute threads (ONNX Runtime), the bank cache and the job runner,
 * taking jobs from the queue of every model pack this process holds (each queue with the pool's
 * size as its concurrency), and failing dead-lettered jobs for good.
 */
import type { DataSource } from 'typeorm';
import type { Config, S3Config } from '../config';
import type { Generation } from '../generation';
import { queueForPack } from '../queue/queue';
import type { Logger } from '../util/logger';
import { BankCache } from './bank-cache';
import { ComputePool } from './compute/compute-pool';
import { checkExecutionProviders } from './compute/provider-check';
import { JobRunner } from './job-runner';
import { WorkerHeartbeat } from '../queue/worker-registry';
import { Metrics } from '../metrics/registry';
import { createBankStore } from '../storage/stores';

export interface GenerationWorkers {
  pool: ComputePool;
  banks: BankCache;
  runner: JobRunner;
  packs: string[];
  /** Stops taking jobs, lets running ones finish (or fail, to be retried) within the timeout, ends the threads. */
  stop(timeoutMs: number): Promise<void>;
}

export type WorkerConfig = Pick<Config, 'workers' | 'ortThreads' | 'executionProviders' | 'cudaDeviceId' | 'dataDir' | 'bankCacheBytes' | 'workerHeartbeatSeconds'>
  & { s3?: S3Config | undefined };

/**
 * Checks first that the configured execution providers work on this machine (with `cuda`: a
 * CUDA session on the configured device), rejecting with ProviderUnavailable before any thread
 * starts or any queue is worked. Jobs, steps and bank lookups are recorded in `metrics` (the
 * process's; without it, metrics of their own that nothing serves).
 */
export async function startGenerationWorkers(config: WorkerConfig, dataSource: DataSource, generation: Generation, log: Logger,
  metrics: Metrics = new Metrics(dataSource, log)): Promise<GenerationWorkers> {
  await checkExecutionProviders(config);
  const { executionProviders, cudaDeviceId } = config;
  const pool = new ComputePool({ size: config.workers, ortThreads: config.ortThreads, executionProviders, cudaDeviceId }, log.child({ component: 'compute' }));
  const banks = new BankCache(createBankStore(config), config.bankCacheBytes);
  metrics.watchBankCache(banks);
  const runner = new JobRunner({ dataSource, pool, packs: generation.packs, banks, images: generation.images, metrics, log: log.child({ component: 'jobs' }) });
  const packs = generation.packs.names;
  await generation.queue.ensureQueues(packs.map(queueForPack));
  for (const pack of packs) await generation.queue.work(queueForPack(pack), config.workers, (job, signal) => runner.run(job, signal));
  await generation.queue.workDeadLetters((message, reason) => runner.deadLetter(message, reason));
  // Announced once the queues are worked: API processes then tell clients these packs have a worker.
  const heartbeat = new WorkerHeartbeat(dataSource, { packs, providers: executionProviders, threads: config.workers }, config.workerHeartbeatSeconds, log);
  await heartbeat.start();
  log.info('workers started', {
    threads: config.workers, packs, executionProviders, ...(executionProviders.includes('cuda') ? { cudaDevice: cudaDeviceId } : {}),
  });
  return {
    pool, banks, runner, packs,
    stop: async (timeoutMs) => {
      await heartbeat.stop();
      await generation.queue.stop(timeoutMs);
      await pool.close();
    },
  };
}
