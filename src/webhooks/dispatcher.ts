import { randomInt } from 'node:crypto';
import { ClientConfig, Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { withTenant } from '../db/tenant-session';
import type { WebhookEvent } from '../db/entities/webhook.entity';
import type { Logger } from '../util/logger';
import type { Metrics } from '../metrics/registry';
import { postJson, PostResult } from './http-post';
import type { SecretBox } from './secret-box';
import { SIGNATURE_HEADER, signatureHeader } from './signature';
import type { WebhookSettings } from './webhook-settings';

/** A claimed message with what its delivery needs. */
interface Claimed {
  id: string;
  project_id: string;
  webhook_id: string;
  event: WebhookEvent;
  event_id: string;
  body: string;
  attempts: number;
  url: string;
  secret_sealed: Buffer;
  secret_key_id: string;
}

export interface DispatcherOptions {
  /** For recording attempts, in each message's tenant transaction. */
  dataSource: DataSource;
  /** Finding work runs on a small pool of its own (as the login role), apart from request traffic. */
  connection: ClientConfig;
  box: () => SecretBox;
  settings: WebhookSettings;
  /** Each attempt's outcome is counted there. */
  metrics: Metrics;
  log: Logger;
  /** Messages taken (and delivered concurrently) per round. */
  batchSize?: number;
}

/** Finished messages (and their delivery log) are kept this long. */
const RETENTION_DAYS = 30;

/**
 * Delivers queued webhook messages, in every API process at once: a round claims due messages with
 * FOR UPDATE SKIP LOCKED and a lease (so two processes never take the same one, and a message whose
 * process died is taken again when its lease runs out), POSTs them signed, then logs the attempt
 * and schedules the retry (exponential backoff, jittered, up to the attempt limit) in the message's
 * tenant transaction. Woken by NOTIFY when messages are queued; otherwise it sleeps until the next
 * retry is due, or `pollMs` at most. Deliveries never run on a request's path.
 */
export class WebhookDispatcher {
  private stopped = false;
  private woken = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastCleanup = 0;
  private readonly pool: Pool;
  private readonly stopping = new AbortController();

  constructor(private readonly options: DispatcherOptions) {
    this.pool = new Pool({ ...options.connection, application_name: 'storyforge-webhooks', max: 2 });
    this.pool.on('error', (error) => options.log.warn('webhook pool error', { error }));
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Look for due messages now (called on NOTIFY and after the listener reconnects). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops: attempts in flight are cut short (logged as failed, retried later), then the loop ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.wakeUp?.();
    await this.loop;
    await this.pool.end();
  }

  private async run(): Promise<void> {
    const { log, settings } = this.options;
    while (!this.stopped) {
      this.woken = false;
      let claimed: Claimed[] = [];
      try {
        await this.cleanup();
        claimed = await this.claim();
        const results = await Promise.allSettled(claimed.map((message) => this.deliver(message)));
        for (const r of results) if (r.status === 'rejected') log.warn('webhook delivery not recorded', { error: r.reason });
      } catch (error) {
        log.warn('webhook round failed', { error });
      }
      if (claimed.length > 0 || this.woken || this.stopped) continue;
      await this.sleep(await this.untilNextDue().catch(() => settings.pollMs));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.woken || this.stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  /** Milliseconds until the next pending message is due, at most pollMs (other processes queue too). */
  private async untilNextDue(): Promise<number> {
    const [row] = await this.rows<{ ms: number | null }>(
      `SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms
       FROM webhook_messages WHERE status = 'PENDING'`, []);
    const ms = row?.ms === null || row?.ms === undefined ? Infinity : Number(row.ms);
    return Math.min(Math.ceil(ms), this.options.settings.pollMs);
  }

  /**
   * Takes due messages across projects. It runs as the login role, like the API-key lookup: finding
   * work must see every project; each delivery is then recorded in its own project's transaction.
   */
  private async claim(): Promise<Claimed[]> {
    const leaseMs = this.options.settings.timeoutMs + 60_000;
    return this.rows<Claimed>(
      `UPDATE webhook_messages m SET attempts = m.attempts + 1, locked_until = now() + $2 * interval '1 millisecond', updated_at = now()
       FROM webhooks w
       WHERE m.id IN (
         SELECT id FROM webhook_messages
         WHERE status = 'PENDING' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until <= now())
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
       ) AND w.id = m.webhook_id
       RETURNING m.id, m.project_id, m.webhook_id, m.event, m.event_id, m.body, m.attempts, w.url, w.secret_sealed, w.secret_key_id`,
      [this.options.batchSize ?? 10, leaseMs]);
  }

  private async rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  private async deliver(message: Claimed): Promise<void> {
    const { settings, log } = this.options;
    let result: PostResult;
    try {
      const secret = this.options.box().open(message.secret_sealed, message.secret_key_id, `${message.project_id}/${message.webhook_id}`);
      const timestamp = Math.floor(Date.now() / 1000);
      result = await postJson(new URL(message.url), message.body, {
        'content-type': 'application/json',
        'user-agent': 'StoryForge-Webhooks/1',
        'x-storyforge-event': message.event,
        'x-storyforge-event-id': message.event_id,
        'x-storyforge-delivery': message.id,
        'x-storyforge-attempt': String(message.attempts),
        [SIGNATURE_HEADER]: signatureHeader(secret, message.body, timestamp),
      }, { timeoutMs: settings.timeoutMs, allowPrivate: settings.allowPrivate, signal: this.stopping.signal });
    } catch (error) {
      result = { status: null, error: (error as Error).message, durationMs: 0 };
    }
    const succeeded = result.error === null;
    const last = message.attempts >= settings.maxAttempts;
    const nextRetryAt = succeeded || last ? null : new Date(Date.now() + this.backoff(message.attempts));
    this.options.metrics.webhookDelivery(succeeded ? 'delivered' : last ? 'failed' : 'retrying');
    await withTenant(this.options.dataSource, message.project_id, async (session) => {
      // Only the holder of this attempt moves the message on (a lease that ran out was taken again).
      await session.query(
        `UPDATE webhook_messages SET status = $3, next_attempt_at = coalesce($4, next_attempt_at), locked_until = NULL, updated_at = now()
         WHERE id = $1 AND attempts = $2`,
        [message.id, message.attempts, succeeded ? 'DELIVERED' : last ? 'FAILED' : 'PENDING', nextRetryAt]);
      await session.query(
        `INSERT INTO webhook_deliveries (project_id, webhook_id, message_id, event, event_id, attempt, http_status, error, duration_ms, next_retry_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE EXISTS (SELECT 1 FROM webhook_messages WHERE id = $3)
         ON CONFLICT (message_id, attempt) DO NOTHING`,
        [message.project_id, message.webhook_id, message.id, message.event, message.event_id, message.attempts,
          result.status, result.error?.slice(0, 1000) ?? null, result.durationMs, nextRetryAt]);
    });
    // The URL is not logged: it may carry a token of the receiver's.
    log.info('webhook delivery', {
      projectId: message.project_id, webhookId: message.webhook_id, messageId: message.id, event: message.event,
      attempt: message.attempts, httpStatus: result.status, error: result.error, durationMs: result.durationMs,
      nextRetryAt: nextRetryAt?.toISOString() ?? null,
    });
  }

  /** base * 2^(attempt-1), capped, with +-20% jitter so failed receivers are not retried in lockstep. */
  private backoff(attempt: number): number {
    const { retryBaseMs, retryMaxMs } = this.options.settings;
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** (attempt - 1));
    return Math.max(1, Math.round(delay * (0.8 + randomInt(0, 401) / 1000)));
  }

  /** Hourly: finished messages past the retention (their log goes with them). */
  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 3_600_000) return;
    this.lastCleanup = Date.now();
    await this.rows(
      `DELETE FROM webhook_messages WHERE id IN (
         SELECT id FROM webhook_messages WHERE status <> 'PENDING' AND updated_at < now() - $1 * interval '1 day' LIMIT 10000)`,
      [RETENTION_DAYS]);
  }
}
