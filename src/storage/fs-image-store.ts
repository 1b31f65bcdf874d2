import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ImageStore } from './image-store';
import { writeFileAtomic } from '../util/write-file-atomic';

/**
 * Images as files under one folder (by default `<data dir>/images`). A put writes a temporary
 * file and renames it into place, so a crash never leaves a half-written image under its key; a
 * file's modification time is when it was last put.
 */
export class FsImageStore implements ImageStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep) || key.includes('..')) throw new Error(`image key outside the store: ${key}`);
    return path;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(key);
    if (await touch(path)) return;
    await writeFileAtomic(path, bytes);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    return stat(this.path(key)).then((s) => s.isFile(), () => false);
  }

  /**
   * Moves the file aside first, then reads its time: a put that found it before the move has
   * touched it (and it goes back), a put after the move finds nothing and writes it anew.
   */
  async remove(key: string, unlessPutSince: Date): Promise<boolean> {
    const path = this.path(key);
    const aside = join(dirname(path), `.${randomBytes(6).toString('hex')}.removing`);
    try {
      await rename(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
    if ((await stat(aside)).mtimeMs >= unlessPutSince.getTime()) {
      // Same key, same bytes: whichever copy ends up under the key is right.
      await rename(aside, path);
      return false;
    }
    await unlink(aside);
    return true;
  }
}

/** Marks an existing file as put now; false when there is none. */
async function touch(path: string): Promise<boolean> {
  const now = new Date();
  try {
    await utimes(path, now, now);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
