/**
 * The Prometheus metrics of one process: a registry of StoryForge's families (one per Metrics, so
 * tests can run several servers in one process) and the process's own metrics (prom-client's
 * defaults: CPU, memory, handles, GC, event-loop delay), served together by `scrape()`.
 * Counters and histograms are fed where things happen (GraphQL requests, job attempts and their
 * steps, webhook deliveries); gauges about the database are read when scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import type { Logger } from '../util/logger';
import type { BankCache } from '../workers/bank-cache';

/** Distinct operation names kept as labels; later new names, and longer ones, are counted as "other". */
export const MAX_OPERATION_NAMES = 100;
const MAX_OPERATION_NAME_LENGTH = 100;

/** How a job attempt ended: done, failed for good, failed and to be retried, or stopped (cancelled, superseded). */
export type JobOutcome = 'succeeded' | 'failed' | 'retried' | 'stopped';
export type StepOp = 'render' | 'bank';
export type WebhookOutcome = 'delivered' | 'retrying' | 'failed';

const ACTIVE_STATUSES = ['QUEUED', 'RUNNING'] as const;

/**
 * The process's own metrics, made once per process: their event-loop monitor and GC observer
 * cannot be stopped, so every Metrics of the process shares them.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly graphqlDuration: Histogram<'operation' | 'outcome'>;
  private readonly jobDuration: Histogram<'kind' | 'model' | 'outcome'>;
  private readonly stepDuration: Histogram<'model' | 'op'>;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private readonly operations = new Set<string>();
  private readonly bankCaches: BankCache[] = [];
  private jobsRead: Promise<Map<string, { jobs: number; oldest: number }>> | undefined;

  constructor(private readonly dataSource: DataSource, private readonly log: Logger) {
    processMetrics();
    const registers = [this.registry];
    this.graphqlDuration = new Histogram({
      name: 'storyforge_graphql_request_duration_seconds',
      help: 'GraphQL requests over HTTP, by operation name and outcome (ok, or the first error code).',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'storyforge_generation_job_duration_seconds',
      help: 'Generation job attempts on this process\'s workers, by job kind, model pack and outcome.',
      labelNames: ['kind', 'model', 'outcome'],
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.stepDuration = new Histogram({
      name: 'storyforge_generation_step_duration_seconds',
      help: 'Denoising steps (one UNet step of a batch) of renders and bank builds, by model pack.',
      labelNames: ['model', 'op'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'storyforge_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retrying (failed, retried later) or failed (attempts used up).',
      labelNames: ['outcome'],
      registers,
    });
    const caches = this.bankCaches;
    new Counter({
      name: 'storyforge_bank_cache_lookups_total',
      help: 'Identity bank lookups by result: memory_hit, disk_hit, or rebuild (built from the anchor recipe).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        for (const cache of caches) {
          const { memoryHits, diskHits, misses } = cache.snapshot();
          this.inc({ result: 'memory_hit' }, memoryHits);
          this.inc({ result: 'disk_hit' }, diskHits);
          this.inc({ result: 'rebuild' }, misses);
        }
      },
    });
    // Read before the jobs query below asks the pool for a connection (it would count as waiting).
    const pool = () => this.pool();
    const poolGauge = (name: string, help: string, read: (p: Pool) => number) => new Gauge({
      name, help, registers,
      collect() {
        const p = pool();
        if (p) this.set(read(p));
        else this.reset();
      },
    });
    poolGauge('storyforge_db_pool_clients', 'Open connections of the database pool (idle or in use).', (p) => p.totalCount);
    poolGauge('storyforge_db_pool_idle_clients', 'Idle connections of the database pool.', (p) => p.idleCount);
    poolGauge('storyforge_db_pool_waiting_requests', 'Requests waiting for a connection of the database pool.', (p) => p.waitingCount);
    poolGauge('storyforge_db_pool_max_clients', 'Size limit of the database pool.', (p) => p.options.max);
    const jobs = () => this.readJobs();
    new Gauge({
      name: 'storyforge_generation_jobs',
      help: 'Generation jobs queued and running, in every project.',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const [status, row] of await jobs()) this.set({ status }, row.jobs);
      },
    });
    new Gauge({
      name: 'storyforge_generation_jobs_oldest_age_seconds',
      help: 'Age of the oldest job by status: QUEUED since it was created, RUNNING since it started; 0 when none.',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const [status, row] of await jobs()) this.set({ status }, row.oldest);
      },
    });
  }

  /** One GraphQL request over HTTP. Operation names are the client's: the first MAX_OPERATION_NAMES keep theirs. */
  graphqlRequest(operationName: string | null | undefined, errorCodes: readonly unknown[], seconds: number): void {
    let operation = operationName || 'anonymous';
    if (!this.operations.has(operation)) {
      if (this.operations.size < MAX_OPERATION_NAMES && operation.length <= MAX_OPERATION_NAME_LENGTH) this.operations.add(operation);
      else operation = 'other';
    }
    const code = errorCodes[0];
    const outcome = errorCodes.length === 0 ? 'ok' : typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'UNKNOWN';
    this.graphqlDuration.observe({ operation, outcome }, seconds);
  }

  jobAttempt(kind: string, model: string, outcome: JobOutcome, seconds: number): void {
    this.jobDuration.observe({ kind, model: model || 'unknown', outcome }, seconds);
  }

  generationStep(model: string, op: StepOp, seconds: number): void {
    this.stepDuration.observe({ model, op }, seconds);
  }

  webhookDelivery(outcome: WebhookOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  /** Its hits and rebuilds are read from its own counts when scraped. */
  watchBankCache(cache: BankCache): void {
    this.bankCaches.push(cache);
  }

  /** The text of a scrape: the process's metrics, then StoryForge's. */
  async scrape(): Promise<string> {
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  /** The pg Pool under TypeORM (undefined once the data source is closed). */
  private pool(): Pool | undefined {
    if (!this.dataSource.isInitialized) return undefined;
    return (this.dataSource.driver as unknown as { master?: Pool }).master;
  }

  /** Queued and running jobs of every project, read once per scrape as the login role (which RLS does not filter). */
  private readJobs(): Promise<Map<string, { jobs: number; oldest: number }>> {
    this.jobsRead ??= this.queryJobs().finally(() => {
      this.jobsRead = undefined;
    });
    return this.jobsRead;
  }

  private async queryJobs(): Promise<Map<string, { jobs: number; oldest: number }>> {
    const byStatus = new Map<string, { jobs: number; oldest: number }>();
    if (!this.dataSource.isInitialized) return byStatus;
    try {
      // generation_jobs_active_idx covers exactly these statuses: no scan of finished jobs.
      const rows: { status: string; jobs: number; oldest: number | null }[] = await this.dataSource.query(
        `SELECT status, count(*)::int AS jobs,
           extract(epoch FROM now() - min(CASE WHEN status = 'QUEUED' THEN created_at ELSE coalesce(started_at, created_at) END))::float8 AS oldest
         FROM generation_jobs WHERE status IN ('QUEUED', 'RUNNING') GROUP BY status`);
      for (const status of ACTIVE_STATUSES) byStatus.set(status, { jobs: 0, oldest: 0 });
      for (const row of rows) byStatus.set(row.status, { jobs: Number(row.jobs), oldest: Math.max(0, Number(row.oldest ?? 0)) });
    } catch (error) {
      this.log.warn('metrics: reading generation jobs failed', { error });
    }
    return byStatus;
  }
}
