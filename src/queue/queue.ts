/**
 * The job queue as the rest of the app sees it: durable entries in PostgreSQL, sent inside the
 * caller's transaction, taken by workers with a concurrency, retried with backoff, expired when
 * a worker dies, dead-lettered when out of retries. pg-boss implements it (pg-boss-queue.ts);
 * nothing else imports pg-boss.
 */

/** Runs SQL on the caller's connection, so a send commits or rolls back with the caller's work. */
export interface SqlExecutor {
  query(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
}

/** What a queue entry carries: ids only; everything else lives in generation_jobs. */
export interface JobMessage {
  jobId: string;
  projectId: string;
}

export interface QueuedJob {
  /** The queue's own id (generation_jobs.queue_job_id). */
  queueId: string;
  queue: string;
  message: JobMessage;
  /** 0 on the first try, then 1, 2, ... */
  retryCount: number;
  retryLimit: number;
  /** The queue fails the attempt after this many seconds (the worker is taken for dead). */
  expireInSeconds: number;
}

export interface JobHandler {
  (job: QueuedJob, signal: AbortSignal): Promise<void>;
}

export interface QueuePolicy {
  /** Tries after the first. */
  retryLimit: number;
  /** Seconds before the first retry; doubled (with jitter) on each further one. */
  retryDelaySeconds: number;
  /** An attempt running longer (or whose worker died) is failed and retried. */
  expireInSeconds: number;
}

export interface JobQueue {
  /** Creates (or updates) the named queues; safe on every start, from every process. */
  ensureQueues(names: readonly string[]): Promise<void>;
  send(executor: SqlExecutor, queue: string, message: JobMessage): Promise<string>;
  /**
   * Takes entries of `queue`, up to `concurrency` at a time. A handler that throws fails the
   * attempt (retried while retries are left, then dead-lettered); the signal aborts when the
   * attempt expires.
   */
  work(queue: string, concurrency: number, handler: JobHandler): Promise<void>;
  /** Entries that ran out of retries, or expired on their last try, from every queue. */
  workDeadLetters(handler: (message: JobMessage, reason: string) => Promise<void>): Promise<void>;
  cancel(executor: SqlExecutor, queue: string, queueId: string): Promise<void>;
  /** Stops taking work, waits for running handlers (up to timeoutMs), closes its connections. */
  stop(timeoutMs: number): Promise<void>;
}

/** One queue per model pack: a worker takes only jobs for the packs it holds. */
export function queueForPack(pack: string): string {
  return `generate.${pack}`;
}

export const DEAD_LETTER_QUEUE = 'generate.dead';
