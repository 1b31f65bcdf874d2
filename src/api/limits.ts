import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLSchema, isLeafType, getNamedType } from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { ErrorCode } from '../domain/common/errors';
import { LIMITS } from '../domain/common/validation';
import { graphQLError } from './errors';

export const QUERY_LIMITS = { maxDepth: 10, maxAliases: 10, maxTokens: 2000, maxDirectives: 10 } as const;

/** Depth, aliases, tokens, directives (graphql-armor). Its cost limit ignores page sizes, so ours replaces it. */
export function armorProtection() {
  return new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.maxDepth },
    maxAliases: { n: QUERY_LIMITS.maxAliases },
    maxTokens: { n: QUERY_LIMITS.maxTokens },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  }).protect();
}

/** Lists without a `first` argument, and how long they can be. */
const BOUNDED_LISTS: Record<string, number> = {
  'Story.characters': LIMITS.castSize,
  'Frame.characters': LIMITS.castSize,
  'AddFramesPayload.frames': LIMITS.framesPerStory,
  'GenerationJob.renders': LIMITS.framesPerStory,
};

/**
 * Leaves are free, every object costs 1, and a paged field costs its page size times what each
 * item costs: `stories(first: 100) { frames(first: 100) { ... } }` is priced as the 10,000
 * frames it could return.
 */
export const pagedEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (isLeafType(getNamedType(field.type))) return 0;
  const each = 1 + childComplexity;
  if (typeof args.first === 'number') return each * Math.max(args.first, 1);
  return each * (BOUNDED_LISTS[`${type.name}.${field.name}`] ?? 1);
};

/** Throws BAD_USER_INPUT when the operation's cost is over `maxCost` (HTTP and graphql-ws alike). */
export function checkQueryCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined, maxCost: number): void {
  const cost = getComplexity({ schema, query: document, variables, operationName: operationName ?? undefined, estimators: [pagedEstimator] });
  if (cost > maxCost) {
    throw graphQLError(ErrorCode.BAD_USER_INPUT, `query cost ${cost} is over the limit of ${maxCost}; ask for smaller pages`, 400, { cost, maxCost });
  }
}

export function queryCostPlugin(schema: GraphQLSchema, maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          checkQueryCost(schema, document, request.variables, request.operationName, maxCost);
        },
      };
    },
  };
}
