/**
 * The whole API as one SDL file (clients/schema.graphql) for other languages' code generators:
 * printed from the same schema the server runs, types in alphabetical order so the file only
 * changes when the API does. `npm run schema:print` writes it; a test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { projectRoot } from '../util/project-root';
import { buildSchema } from './schema';

export const PRINTED_SCHEMA = join(projectRoot(), 'clients', 'schema.graphql');

export function printedSchema(): string {
  return `# The StoryForge GraphQL API, printed from schema/*.graphql by \`npm run schema:print\`. Do not edit.\n\n${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}

if (require.main === module) {
  writeFileSync(PRINTED_SCHEMA, printedSchema());
  process.stdout.write(`wrote ${PRINTED_SCHEMA}\n`);
}
