/**
 * models/story-world/release.sh publishes the model card's figures only when both of its
 * evaluations succeed: `wait a && wait b` under `set -e` let a failure of the first pass
 * silently. Run with a stand-in python (PYTHON=...) that records its calls and fails one
 * evaluation; no real Python is needed.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '../../models/story-world/release.sh');

function run(failRows: string): Promise<{ code: number; stderr: string; calls: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-release-'));
  const log = join(dir, 'calls.log');
  const fake = join(dir, 'python');
  // -c prints the settings line; `-` would join the results (must not run after a failure);
  // evaluate.py fails for the rows named in FAIL_ROWS.
  writeFileSync(fake, `#!/usr/bin/env bash
echo "$*" >> "${log}"
case "$1" in
  -c) echo "--steps 1 --guidance 1 --rate 1 --fraction 0.5" ;;
  -) cat > /dev/null ;;
  evaluate.py) [[ "$*" == *"--rows ${'${FAIL_ROWS}'}"* ]] && exit 3; sleep 0.2 ;;
esac
exit 0
`);
  chmodSync(fake, 0o755);
  const ckpt = join(dir, 'ckpt.pt');
  writeFileSync(ckpt, 'not a checkpoint');
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, ckpt, join(dir, 'judge.pt')], { env: { ...process.env, PYTHON: fake, FAIL_ROWS: failRows, RELEASE_WORK: dir } }, (err, _stdout, stderr) => {
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: err ? (err as NodeJS.ErrnoException & { code: number }).code : 0, stderr, calls });
    });
  });
}

describe('release.sh', () => {
  it.each(['named-none,none,reference', 'joint,first'])('stops without writing results.json when the evaluation of %s fails', async (rows) => {
    const r = await run(rows);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/an evaluation failed \(exit 3\); results\.json not written/);
    expect(r.calls.filter((c) => c.startsWith('evaluate.py'))).toHaveLength(2);
    expect(r.calls).not.toContain('-');
  });

  it('joins the results when both evaluations succeed', async () => {
    const r = await run('no-such-rows');
    expect(r.code).toBe(0);
    expect(r.calls[r.calls.length - 1]).toBe('-');
  });
});
