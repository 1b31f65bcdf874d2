#!/usr/bin/env node
/**
 * One code generator for every typed view of the schema: the server's resolver types, the studio's
 * operations and the TypeScript client's. Each target is a module in scripts/codegen/ exporting
 * `generate({ schema, schemaSdl, root })` -> [{ path, content }]. They all read the printed SDL
 * (clients/schema.graphql, itself checked current by tests/api/printed-schema.test.ts), so
 * generating needs no build and no running server.
 *
 *   node scripts/codegen.mjs           write every target's files
 *   node scripts/codegen.mjs --check   exit 1 naming the files that differ from what would be written
 */
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSchema } from 'graphql';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const schemaSdl = readFileSync(join(root, 'clients/schema.graphql'), 'utf8');
const schema = buildSchema(schemaSdl);

const targetsDir = join(root, 'scripts/codegen');
const targets = readdirSync(targetsDir).filter((f) => f.endsWith('.mjs')).sort()
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, '')));

const stale = [];
for (const file of targets) {
  const target = await import(pathToFileURL(join(targetsDir, file)).href);
  const outputs = await target.generate({ schema, schemaSdl, root });
  for (const { path, content } of outputs) {
    const abs = join(root, path);
    const current = existsSync(abs) ? readFileSync(abs, 'utf8') : null;
    if (current === content) continue;
    if (check) {
      stale.push(relative(root, abs));
    } else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content);
      console.log(`codegen: wrote ${relative(root, abs)}`);
    }
  }
}
if (stale.length > 0) {
  console.error(`codegen: out of date (run npm run codegen): ${stale.join(', ')}`);
  process.exit(1);
}
