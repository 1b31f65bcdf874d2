import PgBoss from 'pg-boss';
import type { Logger } from '../util/logger';
import { QUEUE_SCHEMA } from './queue-schema';
import { DEAD_LETTER_QUEUE, JobHandler, JobMessage, JobQueue, QueuePolicy, SqlExecutor } from './queue';

export interface PgBossQueueOptions {
  connectionString: string;
  policy: QueuePolicy;
  /** How often an idle worker looks for work (pg-boss polls). */
  pollingIntervalSeconds: number;
  /** How often expired attempts are failed (and so retried), across all processes. */
  maintenanceIntervalSeconds: number;
  /** Connections of pg-boss's own pool. */
  poolSize?: number;
}

const db = (executor: SqlExecutor): PgBoss.Db => ({
  executeSql: async (text, values) => ({ rows: await executor.query(text, values ?? []) }),
});

/** JobQueue on pg-boss 10: its schema comes from our migrations; it keeps its own small pool. */
export class PgBossQueue implements JobQueue {
  private readonly boss: PgBoss;
  private started: Promise<unknown> | undefined;

  constructor(private readonly options: PgBossQueueOptions, log: Logger) {
    this.boss = new PgBoss({
      connectionString: options.connectionString,
      schema: QUEUE_SCHEMA,
      max: options.poolSize ?? 3,
      application_name: 'storyforge-queue',
      // Our migration created the schema; pg-boss only upgrades it when a newer pg-boss needs that.
      migrate: true,
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds,
      pollingIntervalSeconds: options.pollingIntervalSeconds,
    });
    this.boss.on('error', (error) => log.warn('queue error', { error }));
  }

  private start(): Promise<unknown> {
    this.started ??= this.boss.start();
    return this.started;
  }

  async ensureQueues(names: readonly string[]): Promise<void> {
    await this.start();
    const { retryLimit, retryDelaySeconds, expireInSeconds } = this.options.policy;
    await this.boss.createQueue(DEAD_LETTER_QUEUE, { name: DEAD_LETTER_QUEUE, retryLimit: 5, retryDelay: 5, retryBackoff: true });
    for (const name of names) {
      const queue: PgBoss.Queue = {
        name, retryLimit, retryDelay: retryDelaySeconds, retryBackoff: true, expireInSeconds, deadLetter: DEAD_LETTER_QUEUE,
      };
      await this.boss.createQueue(name, queue);
      await this.boss.updateQueue(name, queue); // a changed policy applies to new entries
    }
  }

  async send(executor: SqlExecutor, queue: string, message: JobMessage): Promise<string> {
    const id = await this.boss.send(queue, { ...message }, { db: db(executor) });
    if (!id) throw new Error(`queue ${queue} does not exist (no worker or API process has created it)`);
    return id;
  }

  async work(queue: string, concurrency: number, handler: JobHandler): Promise<void> {
    await this.start();
    for (let i = 0; i < concurrency; i++) {
      await this.boss.work<JobMessage>(queue, { batchSize: 1, includeMetadata: true }, async ([job]) => {
        if (!job) return;
        const controller = new AbortController();
        // pg-boss fails the attempt at expiry; stop the work then too, so it cannot overlap its retry.
        const timer = setTimeout(() => controller.abort(new Error('the attempt expired')), job.expireInSeconds * 1000 - 500);
        try {
          await handler({
            queueId: job.id, queue, message: job.data, retryCount: job.retryCount, retryLimit: job.retryLimit,
            expireInSeconds: job.expireInSeconds,
          }, controller.signal);
        } finally {
          clearTimeout(timer);
        }
      });
    }
  }

  async workDeadLetters(handler: (message: JobMessage, reason: string) => Promise<void>): Promise<void> {
    await this.start();
    await this.boss.work<JobMessage>(DEAD_LETTER_QUEUE, { batchSize: 1, includeMetadata: true }, async ([job]) => {
      if (job) await handler(job.data, deadReason(job.output));
    });
  }

  async cancel(executor: SqlExecutor, queue: string, queueId: string): Promise<void> {
    await this.boss.cancel(queue, queueId, { db: db(executor) });
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    await this.boss.stop({ graceful: true, wait: true, timeout: Math.max(timeoutMs, 1000) });
  }
}

/** pg-boss keeps the last error as the dead entry's output. */
function deadReason(output: unknown): string {
  const o = output as { message?: unknown; value?: { message?: unknown } } | null;
  const message = o?.message ?? o?.value?.message;
  return typeof message === 'string' ? message : 'out of retries';
}
