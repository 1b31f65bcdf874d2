/**
 * Identity banks, cached: in memory (least recently used first out, bounded by bytes), then in a
 * BankStore (float16, the bank's own format): on disk under `<data dir>/banks` by default, or
 * objects `banks/...` of the S3 bucket that every worker host shares (STORYFORGE_S3_BUCKET); and
 * rebuilt from the anchor recipe when neither has it. Every copy is the same float16 bytes, so a
 * render reads the same bank whether it was just built, kept in memory, read from the store after
 * a restart, or rebuilt. The key covers everything the bank depends on: model, recipe and
 * generation settings.
 */
import { createHash } from 'node:crypto';
import type { AnchorRecipeJson } from '../db/entities/character-anchor.entity';
import { BankStore, FsBankStore } from '../storage/bank-store';
import type { EngineSettings } from '../domain/jobs/job-request';

export function bankKey(modelHash: string, recipe: AnchorRecipeJson, settings: EngineSettings): string {
  // A bank holds tokens of one image size; jobs queued before sizes existed drew the pack's native one.
  const size = settings.width === undefined ? {} : { width: settings.width, height: settings.height };
  const key = JSON.stringify({ modelHash, recipe, settings: { scheduler: settings.scheduler, steps: settings.steps, guidance: settings.guidance, ...size } });
  return createHash('sha256').update(key).digest('hex');
}

export interface BankCacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  bytes: number;
  entries: number;
}

export class BankCache {
  private readonly memory = new Map<string, Uint8Array>();
  private bytes = 0;
  private readonly building = new Map<string, Promise<Uint8Array>>();
  readonly stats = { memoryHits: 0, diskHits: 0, misses: 0 };

  private readonly store: BankStore;

  /** `store`: where banks outlive the process; a folder stands for the files of an FsBankStore there. */
  constructor(store: BankStore | string, private readonly maxBytes: number) {
    this.store = typeof store === 'string' ? new FsBankStore(store) : store;
  }

  snapshot(): BankCacheStats {
    return { ...this.stats, bytes: this.bytes, entries: this.memory.size };
  }

  /** The bank under `key`, building it with `build` (once, however many ask at the same time). */
  async get(key: string, build: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hot = this.memory.get(key);
    if (hot) {
      this.stats.memoryHits++;
      this.touch(key, hot);
      return hot;
    }
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.load(key, build).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  /** Drops the memory copy (tests, and callers that know a bank went stale). */
  evict(key: string): void {
    const bytes = this.memory.get(key);
    if (!bytes) return;
    this.memory.delete(key);
    this.bytes -= bytes.byteLength;
  }

  private async load(key: string, build: () => Promise<Uint8Array>): Promise<Uint8Array> {
    // A copy that cannot be read (a damaged file, a store that stays unreachable) is rebuilt.
    const stored = await this.store.get(key).catch(() => undefined);
    if (stored) {
      this.stats.diskHits++; // read from the store (disk or S3)
      this.touch(key, stored);
      return stored;
    }
    this.stats.misses++;
    const bytes = await build();
    await this.store.put(key, bytes);
    this.touch(key, bytes);
    return bytes;
  }

  private touch(key: string, bytes: Uint8Array): void {
    if (this.memory.has(key)) this.memory.delete(key);
    else this.bytes += bytes.byteLength;
    this.memory.set(key, bytes); // Map order = recency: the first key is the least recently used
    for (const [oldest, old] of this.memory) {
      if (this.bytes <= this.maxBytes || oldest === key) break;
      this.memory.delete(oldest);
      this.bytes -= old.byteLength;
    }
  }
}
