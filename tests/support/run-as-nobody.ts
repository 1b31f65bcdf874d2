/**
 * Tests that run the sources as `nobody` (a user without root, as the Docker image runs the app)
 * need root to drop privileges and a checkout `nobody` can read: a clone inside a private folder
 * (mktemp -d makes them 0700) cannot be, and there those tests are skipped, as without setpriv.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

export const NOBODY_ARGS = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

export function canRunAsNobody(): boolean {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) return false;
  const probe = spawnSync('/usr/bin/setpriv', [...NOBODY_ARGS, '/usr/bin/test', '-r', join(ROOT, 'tests/support/ts-register.cjs')]);
  return probe.status === 0;
}
