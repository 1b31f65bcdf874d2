/** Generated types (resolvers, studio, typed client) follow clients/schema.graphql: a schema change without `npm run codegen` fails here. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('generated code', () => {
  it('has at least one target', () => {
    expect(readdirSync(join(root, 'scripts/codegen')).filter((f) => f.endsWith('.mjs')).length).toBeGreaterThan(0);
  });

  it('is current (run `npm run codegen` after changing schema/ or an operation)', () => {
    const run = spawnSync(process.execPath, [join(root, 'scripts/codegen.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 60_000);
});
