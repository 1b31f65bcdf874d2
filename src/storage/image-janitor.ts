import type { DataSource } from 'typeorm';
import type { Logger } from '../util/logger';
import type { ImageStore } from './image-store';

export interface ImageJanitorOptions {
  /** Works as the login role (image_file_deletions spans projects). */
  dataSource: DataSource;
  store: ImageStore;
  /** A deleted image's file stays at least this long, and so does a file put this recently. */
  graceSeconds: number;
  log: Logger;
  /**
   * Image rows nothing uses (an upload never given to a character, or let go) are deleted once
   * they are this old, their files then going the way of every deleted image. Unset: kept.
   */
  unusedImageSeconds?: number;
  /** Between rounds; default half the grace period, between 5 s and a minute. */
  intervalMs?: number;
  batchSize?: number;
}

/**
 * Removes the stored files of deleted images (queued in image_file_deletions by the images
 * trigger) once the grace period has passed, in every API process at once (SKIP LOCKED: each entry
 * is taken by one). The grace period exists because files are content-addressed: a render being
 * saved at the same moment may have just put the same bytes and be about to insert a row for
 * them. So a file is kept, and its entry dropped, when an image row uses those bytes again; and
 * a file put within the grace period is kept and looked at again later.
 */
export class ImageJanitor {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly intervalMs: number;
  private readonly batchSize: number;

  constructor(private readonly options: ImageJanitorOptions) {
    this.intervalMs = options.intervalMs ?? Math.min(60_000, Math.max(5_000, (options.graceSeconds * 1000) / 2));
    this.batchSize = options.batchSize ?? 200;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.round = this.round.then(() => this.sweep()).catch((error) => this.options.log.warn('image janitor round failed', { error }));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** One pass: unused images past their age deleted, then the due files; returns how many files went and how many were kept. */
  async sweep(): Promise<{ removed: number; kept: number }> {
    if (this.options.unusedImageSeconds !== undefined) {
      const expired = await this.deleteUnusedImages(this.options.unusedImageSeconds);
      if (expired > 0) this.options.log.info('unused images deleted', { images: expired });
    }
    const total = { removed: 0, kept: 0 };
    for (;;) {
      const { removed, kept, taken } = await this.batch();
      total.removed += removed;
      total.kept += kept;
      // Entries kept for later (files put within the grace period) come back in the next round.
      if (taken < this.batchSize || removed + kept === 0) break;
    }
    if (total.removed > 0) this.options.log.info('deleted image files removed', total);
    return total;
  }

  /**
   * Rows only: the images trigger queues their files. SKIP LOCKED leaves alone an image that is
   * being taken right now: a character adding it holds a KEY SHARE lock on it (reference-images.ts),
   * a render saving the same bytes holds it through its upsert.
   */
  async deleteUnusedImages(olderThanSeconds: number): Promise<number> {
    const rows: unknown[] = await this.options.dataSource.query(
      `DELETE FROM images WHERE id IN (
         SELECT i.id FROM images i
         WHERE i.created_at <= now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM reference_images r WHERE r.image_id = i.id)
           AND NOT EXISTS (SELECT 1 FROM renders x WHERE x.image_id = i.id OR x.webp_image_id = i.id OR x.thumbnail_image_id = i.id)
         ORDER BY i.created_at LIMIT $2
         FOR UPDATE SKIP LOCKED)
       RETURNING id`, [olderThanSeconds, this.batchSize * 5]);
    return rows.length;
  }

  private async batch(): Promise<{ removed: number; kept: number; taken: number }> {
    const { dataSource, store, graceSeconds } = this.options;
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const due: { id: string; storage_key: string; in_use: boolean }[] = await runner.query(
        `SELECT d.id, d.storage_key,
           EXISTS (SELECT 1 FROM images i WHERE i.project_id = d.project_id AND i.content_hash = d.content_hash) AS in_use
         FROM image_file_deletions d
         WHERE d.deleted_at <= now() - make_interval(secs => $1)
         ORDER BY d.deleted_at LIMIT $2
         FOR UPDATE OF d SKIP LOCKED`, [graceSeconds, this.batchSize]);
      const unlessPutSince = new Date(Date.now() - graceSeconds * 1000);
      const done: string[] = [];
      let removed = 0;
      let kept = 0;
      for (const entry of due) {
        if (entry.in_use) {
          kept++;
          done.push(entry.id);
        } else if (await store.remove(entry.storage_key, unlessPutSince)) {
          removed++;
          done.push(entry.id);
        }
      }
      if (done.length > 0) await runner.query(`DELETE FROM image_file_deletions WHERE id = ANY($1::uuid[])`, [done]);
      await runner.commitTransaction();
      return { removed, kept, taken: due.length };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
