import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A 32-byte server secret kept in `<dataDir>/<name>` (hex), made on first use. The file appears
 * whole (written aside, then hard-linked into place, which fails if it exists), so processes
 * starting together agree on one.
 */
export function loadOrCreateSecretFile(dataDir: string, name: string): Buffer {
  const file = join(dataDir, name);
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(tmp);
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}
