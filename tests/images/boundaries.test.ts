import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// Only the image module touches sharp (the engine returns raw pixels; see docs/architecture.md).
const ROOT = join(__dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

it('imports sharp only under src/images', () => {
  const users = ['src', 'workers'].flatMap((d) => files(join(ROOT, d)))
    .filter((p) => /(?:from\s+|require\(|import\()\s*['"]sharp['"]/.test(readFileSync(p, 'utf8')))
    .map((p) => relative(ROOT, p));
  expect(users.length).toBeGreaterThan(0);
  expect(users.filter((p) => !p.startsWith(join('src', 'images')))).toEqual([]);
});
