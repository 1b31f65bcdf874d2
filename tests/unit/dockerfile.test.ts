/**
 * Docker cannot run here, so the image's runtime stage is read instead: the app runs as `node`
 * and writes only its data folder, so that folder must exist in the image, belong to `node`
 * before USER switches to it (a named volume mounted there copies that ownership), and be the
 * folder STORYFORGE_DATA_DIR names, in the image and in docker-compose.yml.
 * tests/integration/non-root-start.test.ts runs the startup itself as a user without root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

interface Instruction { op: string; args: string }

/** The instructions of the last stage, continuation lines joined, comments dropped. */
function runtimeStage(dockerfile: string): Instruction[] {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const all = lines.map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(' ') };
  });
  const from = all.map((i) => i.op).lastIndexOf('FROM');
  return all.slice(from);
}

describe('Dockerfile', () => {
  const stage = runtimeStage(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const userAt = stage.findIndex((i) => i.op === 'USER');
  const env = new Map(stage.filter((i) => i.op === 'ENV').map((i) => i.args.split('=') as [string, string]));
  const dataDir = env.get('STORYFORGE_DATA_DIR');

  it('runs the app as node, not root', () => {
    expect(stage[userAt]?.args).toBe('node');
    expect(stage.slice(userAt + 1).map((i) => i.op)).not.toContain('USER');
  });

  it('names an absolute data folder, made and given to node before USER node', () => {
    expect(dataDir).toMatch(/^\/\w/);
    const before = stage.slice(0, userAt).filter((i) => i.op === 'RUN').map((i) => i.args);
    const made = before.findIndex((r) => new RegExp(`mkdir -p [^&;]*${dataDir}(\\s|$)`).test(r));
    const owned = before.findIndex((r) => new RegExp(`chown (-R )?node(:node)? [^&;]*${dataDir}(\\s|$)`).test(r));
    expect({ made: made >= 0, owned: owned >= 0 }).toEqual({ made: true, owned: true });
    // Nothing after USER can fix ownership (no root any more).
    expect(owned).toBeGreaterThanOrEqual(made);
  });

  it('is the folder docker-compose.yml mounts its volume on and names as STORYFORGE_DATA_DIR', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(compose).toMatch(new RegExp(`STORYFORGE_DATA_DIR: ${dataDir}\\s`));
    expect(compose).toMatch(new RegExp(`- appdata:${dataDir}\\s`));
  });
});
