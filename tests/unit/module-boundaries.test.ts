/**
 * Which folder may import which: the engine knows nothing of the API or the database, domain
 * services nothing of GraphQL or the workers, the queue adapter nothing of either, and no
 * production code loads anything from tests/, bench/ or the top-level workers/ entry point.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file imports or requires, as a path from the repository root. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, resolve(dirname(file), s)));
}

function offenders(from: string, forbidden: (target: string) => boolean): string[] {
  return sources(join(ROOT, from)).flatMap((file) =>
    imports(file).filter(forbidden).map((target) => `${relative(ROOT, file)} -> ${target}`));
}

const under = (...dirs: string[]) => (target: string) => dirs.some((d) => target === d || target.startsWith(d + '/'));

describe('module boundaries', () => {
  it('finds the imports it checks (the scan itself works)', () => {
    expect(imports(join(ROOT, 'src/app.ts'))).toEqual(expect.arrayContaining(['src/workers/generation-workers']));
  });

  it('keeps the engine on its own: tensors in, images out', () => {
    expect(offenders('src/engine', (t) => !t.startsWith('src/engine/') && t !== 'src/engine')).toEqual([]);
  });

  it('keeps production code away from tests, benches and the worker entry point', () => {
    expect(offenders('src', under('tests', 'bench', 'workers'))).toEqual([]);
    const mentions = sources(join(ROOT, 'src')).filter((f) => /tests\/support/.test(readFileSync(f, 'utf8')));
    expect(mentions.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('keeps domain services and the queue adapter free of GraphQL and of the workers', () => {
    expect(offenders('src/domain', under('src/api', 'src/workers'))).toEqual([]);
    expect(offenders('src/queue', under('src/api', 'src/workers', 'src/domain'))).toEqual([]);
  });
});
