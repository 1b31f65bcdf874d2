import { accessSync, constants, mkdirSync } from 'node:fs';

/**
 * Makes sure the data folder (STORYFORGE_DATA_DIR) exists and this process may write it, before
 * anything else needs it (the embedded database, secrets, images, identity banks): one clear
 * message at start instead of an EACCES from whichever part writes first.
 */
export function ensureWritableDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    const uid = process.getuid?.();
    throw new Error(`STORYFORGE_DATA_DIR (${dir}) is not writable by this process${uid === undefined ? '' : ` (uid ${uid})`}: `
      + `${(error as Error).message}. Make that user its owner, or point STORYFORGE_DATA_DIR at a folder it owns `
      + `(the Docker image creates /data for its "node" user; a bind mount there must be writable by that uid too).`, { cause: error });
  }
}
