import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { projectRoot } from '../util/project-root';
import { resolvers } from './resolvers';

/** The SDL in schema/*.graphql, read at start so the files stay the single source of the API's shape. */
export function loadTypeDefs(dir = join(projectRoot(), 'schema')): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
}

export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers, inheritResolversFromInterfaces: true });
}
