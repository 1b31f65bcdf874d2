import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLError, GraphQLSchema, getOperationAST, getVariableValues } from 'graphql';
import { ErrorCode } from '../domain/common/errors';
import { checkArguments } from './argument-checks';
import { graphQLError } from './errors';
import { checkQueryCost } from './limits';

/**
 * What a parsed, valid operation must pass before anything runs, over HTTP and graphql-ws alike:
 * variables of the declared types (the cost estimator coerces them first, and used to fail with a
 * 500), arguments that coerce and hold storable text, and the cost limit. Each refusal is
 * BAD_USER_INPUT (400).
 */
export function checkOperation(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined, maxCost: number): void {
  const operation = getOperationAST(document, operationName ?? undefined);
  // No such operation: Apollo and graphql-ws answer that themselves.
  if (!operation) return;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  if (coerced.errors) throw graphQLError(ErrorCode.BAD_USER_INPUT, coerced.errors[0].message, 400);
  checkArguments(schema, document, operation, coerced.coerced);
  checkQueryCost(schema, document, variables ?? undefined, operationName, maxCost);
}

/** The checks over HTTP, where a subscription cannot run (it would answer null, logged as a server error). */
export function operationChecksPlugin(schema: GraphQLSchema, maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('subscriptions run over graphql-ws: ws://<host>/graphql, protocol graphql-transport-ws', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          checkOperation(schema, document, request.variables, request.operationName, maxCost);
        },
      };
    },
  };
}
