import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// The engine's rules, checked on the source: framework-free, seeded randomness only, one
// module touching ONNX Runtime, no sharp.
const ENGINE = join(__dirname, '../../src/engine');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const sources = files(ENGINE).map((p) => ({ path: relative(ENGINE, p), text: readFileSync(p, 'utf8') }));
const imports = (text: string) => [...text.matchAll(/(?:from\s+|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

describe('engine boundaries', () => {
  it('imports no web, database or GraphQL framework and no sharp', () => {
    const banned = /^(typeorm|pg|pg-boss|graphql|graphql-ws|@apollo\/|express|sharp|dataloader)(\/|$)/;
    const offenders = sources.flatMap((s) => imports(s.text).filter((i) => banned.test(i)).map((i) => `${s.path}: ${i}`));
    expect(offenders).toEqual([]);
  });

  it('reaches outside src/engine only through node built-ins and packages', () => {
    const offenders = sources.flatMap((s) => imports(s.text).filter((i) => i.startsWith('../') && !join('engine', s.path, '..', i).startsWith('engine')).map((i) => `${s.path}: ${i}`));
    expect(offenders).toEqual([]);
  });

  it('has exactly one module importing onnxruntime-node', () => {
    const users = sources.filter((s) => imports(s.text).some((i) => i.startsWith('onnxruntime-'))).map((s) => s.path);
    expect(users).toEqual([join('runtime', 'model-session.ts')]);
  });

  it('never calls Math.random', () => {
    expect(sources.filter((s) => /Math\.random\s*\(/.test(s.text)).map((s) => s.path)).toEqual([]);
  });
});
