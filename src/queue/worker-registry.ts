/**
 * Which worker processes are alive and which packs they serve, in PostgreSQL (the workers
 * table), so that any API process can tell a client whether a pack's jobs will be taken, and
 * fail the jobs of a pack nobody serves instead of letting them wait forever. A worker writes
 * its row at start and every `heartbeatSeconds`; it counts as alive for three heartbeats, so
 * one slow write does not take it offline.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DataSource } from 'typeorm';
import type { Logger } from '../util/logger';

/** Runs a statement (the owner's connection, or a tenant session: workers is readable by both). */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export const LIVE_HEARTBEATS = 3;

/** Live workers per pack name. */
export async function workersByPack(db: Queryable, heartbeatSeconds: number): Promise<Map<string, number>> {
  const rows = await db.query<{ pack: string; workers: number }>(
    `SELECT p.pack, count(*)::int AS workers FROM workers w, unnest(w.packs) AS p(pack)
     WHERE w.seen_at > now() - make_interval(secs => $1) GROUP BY p.pack`, [heartbeatSeconds * LIVE_HEARTBEATS]);
  return new Map(rows.map((r) => [r.pack, r.workers]));
}

export interface WorkerAnnouncement {
  packs: string[];
  providers: string[];
  threads: number;
}

/** This process's row in workers: written at start, refreshed on a timer, removed at stop. */
export class WorkerHeartbeat {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private beat: Promise<void> = Promise.resolve();

  constructor(private readonly dataSource: DataSource, private readonly what: WorkerAnnouncement,
    private readonly heartbeatSeconds: number, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO workers (id, host, pid, packs, providers, threads) VALUES ($1, $2, $3, $4, $5, $6)`,
      [this.id, hostname().slice(0, 255), process.pid, this.what.packs, this.what.providers, this.what.threads]);
    // Workers that died without saying so are gone for good after a day; they stopped counting long before.
    await this.dataSource.query(`DELETE FROM workers WHERE seen_at < now() - interval '1 day'`);
    this.timer = setInterval(() => {
      this.beat = this.beat.then(async () => {
        // A row removed meanwhile (a long pause, an operator's cleanup) is written again.
        await this.dataSource.query(
          `INSERT INTO workers (id, host, pid, packs, providers, threads) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET seen_at = now()`,
          [this.id, hostname().slice(0, 255), process.pid, this.what.packs, this.what.providers, this.what.threads]);
      }).catch((error) => this.log.warn('worker heartbeat failed', { error }));
    }, this.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beat;
    await this.dataSource.query(`DELETE FROM workers WHERE id = $1`, [this.id]).catch((error) => this.log.warn('worker row not removed', { error }));
  }
}
