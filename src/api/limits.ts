import { ApolloArmor } from '@escape.tech/graphql-armor';
import { DocumentNode, GraphQLSchema, NoSchemaIntrospectionCustomRule, ParseOptions, ValidationRule, getNamedType, isLeafType } from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { ErrorCode } from '../domain/common/errors';
import { LIMITS } from '../domain/common/validation';
import { MAX_REFERENCE_IMAGES } from '../domain/characters/reference-images';
import { graphQLError } from './errors';

export const QUERY_LIMITS = { maxDepth: 10, maxAliases: 10, maxTokens: 2000, maxDirectives: 10 } as const;

/** How documents are parsed and validated, the same over HTTP and graphql-ws. */
export interface OperationRules {
  parseOptions: ParseOptions;
  /** Run after graphql's specified rules. */
  validationRules: ValidationRule[];
}

/**
 * Tokens are counted by graphql's own parser, so a document over the limit fails to parse like
 * any other (GRAPHQL_PARSE_FAILED, 400): graphql-armor's token plugin threw from an Apollo hook,
 * which made every parse failure a 500. Depth, aliases and directives are graphql-armor's
 * validation rules; its cost limit ignores page sizes, so ours replaces it; suggestions are
 * hidden by the error formatter, which both transports share. Without introspection
 * (production), `__schema` and `__type` fail validation.
 */
export function operationRules(options: { introspection: boolean }): OperationRules {
  const armor = new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.maxDepth },
    maxAliases: { n: QUERY_LIMITS.maxAliases },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return {
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    validationRules: [...armor.validationRules, ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])],
  };
}

/** Lists without a `first` argument, and how long they can be. */
const BOUNDED_LISTS: Record<string, number> = {
  'Story.characters': LIMITS.castSize,
  'Frame.characters': LIMITS.castSize,
  'AddFramesPayload.frames': LIMITS.framesPerStory,
  'GenerationJob.renders': LIMITS.framesPerStory,
  'Character.referenceImages': MAX_REFERENCE_IMAGES,
  // A page holds 4 frames (four-panel) or a few rows of 4 to 6 (classic).
  'Story.pages': Math.ceil(LIMITS.framesPerStory / 4),
  'ComicPage.panels': 24,
};

/**
 * A query costs the objects it could return: leaves are free, every object costs 1 except the
 * Relay wrappers around them (connections, edges, page info: counting those tripled the price of
 * a page without making it any heavier), and a paged field costs its page size times what each
 * item costs. `stories(first: 100) { frames(first: 100) { ... } }` is priced as the 10,000
 * frames it could return; a story's frames with their current renders at the default page sizes
 * as about 40.
 */
export const pagedEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const named = getNamedType(field.type);
  if (isLeafType(named)) return 0;
  const wrapper = named.name.endsWith('Connection') || named.name.endsWith('Edge') || named.name === 'PageInfo';
  const each = (wrapper ? 0 : 1) + childComplexity;
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
