/**
 * Workers of one process: the compute threads (ONNX Runtime), the bank cache and the job runner,
 * taking jobs from the queue of every model pack this process holds (each queue with the pool's
 * size as its concurrency), and failing dead-lettered jobs for good.
 */
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { Config } from '../src/config';
import type { Generation } from '../src/generation';
import { queueForPack } from '../src/jobs/queue';
import type { Logger } from '../src/util/logger';
import { BankCache } from './bank-cache';
import { ComputePool } from './compute/compute-pool';
import { JobRunner } from './job-runner';

export interface GenerationWorkers {
  pool: ComputePool;
  banks: BankCache;
  runner: JobRunner;
  packs: string[];
  /** Stops taking jobs, lets running ones finish (or fail, to be retried) within the timeout, ends the threads. */
  stop(timeoutMs: number): Promise<void>;
}

export type WorkerConfig = Pick<Config, 'workers' | 'ortThreads' | 'dataDir' | 'bankCacheBytes'>;

export async function startGenerationWorkers(config: WorkerConfig, dataSource: DataSource, generation: Generation, log: Logger): Promise<GenerationWorkers> {
  const pool = new ComputePool({ size: config.workers, ortThreads: config.ortThreads }, log.child({ component: 'compute' }));
  const banks = new BankCache(join(config.dataDir, 'banks'), config.bankCacheBytes);
  const runner = new JobRunner({ dataSource, pool, packs: generation.packs, banks, images: generation.images, log: log.child({ component: 'jobs' }) });
  const packs = generation.packs.names;
  await generation.queue.ensureQueues(packs.map(queueForPack));
  for (const pack of packs) await generation.queue.work(queueForPack(pack), config.workers, (job, signal) => runner.run(job, signal));
  await generation.queue.workDeadLetters((message, reason) => runner.deadLetter(message, reason));
  log.info('workers started', { threads: config.workers, packs });
  return {
    pool, banks, runner, packs,
    stop: async (timeoutMs) => {
      await generation.queue.stop(timeoutMs);
      await pool.close();
    },
  };
}
