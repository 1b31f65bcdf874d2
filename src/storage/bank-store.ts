import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/write-file-atomic';

/**
 * Where identity banks outlive a process (workers/bank-cache.ts keeps them in memory in front of
 * it). Keys are the hex digests of bankKey; a bank under a key never changes, so a put of a key
 * already stored writes the same bytes again.
 */
export interface BankStore {
  /** The bytes, or undefined when nothing is stored under `key`. */
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/** Banks as files `<dir>/<key>.sfbank` (by default `<data dir>/banks`), each written whole or not at all. */
export class FsBankStore implements BankStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private file(key: string): string {
    if (!/^[\w-]+$/.test(key)) throw new Error(`bank key outside the store: ${key}`);
    return join(this.dir, `${key}.sfbank`);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const bytes = await readFile(this.file(key));
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.file(key), bytes);
  }
}
