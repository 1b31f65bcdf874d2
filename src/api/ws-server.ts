import type { Server } from 'node:http';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, ValidationRule, parse, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import { AppError, ErrorCode } from '../domain/common/errors';
import type { Logger } from '../util/logger';
import { connectionAuthorization } from './auth-header';
import type { RequestContext } from './context';
import { createErrorFormatter } from './errors';
import { QUERY_LIMITS, checkQueryCost } from './limits';

export interface GraphqlWsOptions {
  schema: GraphQLSchema;
  /** The same authentication and rate limit as an HTTP request. */
  contextFor(authorization: string | undefined): Promise<RequestContext>;
  /** graphql-armor's rules (depth, aliases, directives); Apollo's plugins do not run here. */
  validationRules: readonly ValidationRule[];
  maxQueryCost: number;
  /** Throws when the key is no longer valid (revoked); no rate limit taken. */
  authenticate(authorization: string): Promise<unknown>;
  /** How often an open connection's key is checked again: a revoked key's socket is closed. */
  keyRecheckMs: number;
  log: Logger;
}

/** Close codes for a refused connection (graphql-ws keeps 4400-4499 for such reasons). */
const REFUSAL_CODES: Partial<Record<string, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 4401,
  [ErrorCode.FORBIDDEN]: 4403,
  [ErrorCode.RATE_LIMITED]: 4429,
};

/**
 * graphql-ws on the API's http.Server at /graphql. The key comes in the connection parameters
 * and is checked on connect: a missing, malformed, unknown or revoked key closes the socket with
 * 4401 and a reason saying why. Each operation then authenticates again (a key revoked since the
 * connection stops there; an open connection's key is also checked every `keyRecheckMs` and its
 * socket closed with 4401 once revoked), passes the same limits as HTTP (tokens, depth, aliases, cost), and
 * gets its own RequestContext. A subscription's context commits and drops its transaction after
 * the subscribe check and after every event, so a waiting subscription holds no connection.
 */
export function attachGraphqlWs(httpServer: Server, options: GraphqlWsOptions): { dispose(): Promise<void> } {
  const { schema, contextFor, log } = options;
  const formatError = createErrorFormatter(log);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const authorizations = new WeakMap<object, string>();
  const rechecks = new WeakMap<object, NodeJS.Timeout>();
  const contexts = new WeakMap<object, Map<string, RequestContext>>();

  const format = (errors: readonly GraphQLError[], fallbackCode: string): GraphQLFormattedError[] =>
    errors.map((error) => {
      if (error.originalError) return formatError(error.toJSON(), error);
      const json = error.toJSON();
      return { ...json, extensions: { code: fallbackCode, ...json.extensions } };
    });

  const end = async (ctx: object, id: string, commit: boolean) => {
    const context = contexts.get(ctx)?.get(id);
    contexts.get(ctx)?.delete(id);
    await context?.finish(commit);
  };

  const server = useServer({
    schema,
    onConnect: async (ctx) => {
      try {
        const authorization = connectionAuthorization(ctx.connectionParams);
        if (authorization === undefined) {
          throw new AppError(ErrorCode.UNAUTHENTICATED,
            `send the API key in the connection parameters: { authorization: 'Bearer <key>' } or { apiKey: '<key>' }`);
        }
        const context = await contextFor(authorization);
        if (context.principal?.kind !== 'key') throw new AppError(ErrorCode.FORBIDDEN, 'subscriptions need a project API key');
        authorizations.set(ctx, authorization);
        // Subscriptions outlive requests: a key revoked meanwhile closes its sockets at the next check.
        const timer = setInterval(() => {
          options.authenticate(authorization).catch((error) => {
            if (error instanceof AppError) refuse(ctx.extra.socket, error, log);
            else log.warn('websocket key check failed; keeping the connection', { error });
          });
        }, options.keyRecheckMs);
        timer.unref();
        rechecks.set(ctx, timer);
        return true;
      } catch (error) {
        refuse(ctx.extra.socket, error, log);
        return false;
      }
    },

    onSubscribe: async (ctx, id, payload) => {
      let document;
      try {
        document = parse(payload.query, { maxTokens: QUERY_LIMITS.maxTokens });
      } catch (error) {
        return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
      }
      const invalid = validate(schema, document, [...specifiedRules, ...options.validationRules]);
      if (invalid.length > 0) return invalid.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
      let contextValue: RequestContext;
      try {
        checkQueryCost(schema, document, payload.variables ?? undefined, payload.operationName, options.maxQueryCost);
        contextValue = await contextFor(authorizations.get(ctx));
      } catch (error) {
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
      const open = contexts.get(ctx) ?? new Map<string, RequestContext>();
      open.set(id, contextValue);
      contexts.set(ctx, open);
      return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
    },

    // A query or mutation commits before its result goes out; a subscription lets go of the
    // transaction its subscribe check used.
    onOperation: async (ctx, id) => {
      await contexts.get(ctx)?.get(id)?.release();
    },

    onNext: async (ctx, id, _payload, _args, result) => {
      await contexts.get(ctx)?.get(id)?.release();
      if (!result.errors) return undefined;
      return { ...result, errors: format(result.errors, ErrorCode.BAD_USER_INPUT) };
    },

    onError: async (ctx, id, _payload, errors) => {
      await end(ctx, id, false);
      return format(errors, ErrorCode.BAD_USER_INPUT);
    },

    onComplete: async (ctx, id) => {
      await end(ctx, id, true);
    },

    onClose: async (ctx) => {
      clearInterval(rechecks.get(ctx));
      for (const id of [...(contexts.get(ctx)?.keys() ?? [])]) await end(ctx, id, false);
    },
  }, wsServer);

  return { dispose: async () => { await server.dispose(); } };
}

function withCode(error: unknown, code: string): GraphQLError {
  const e = error instanceof GraphQLError ? error : new GraphQLError(String(error));
  return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...e.extensions, code } });
}

/** Closes a socket whose connection was refused, with the code and a reason the client can show. */
function refuse(socket: WebSocket, error: unknown, log: Logger): void {
  const code = error instanceof AppError ? error.code
    : error instanceof GraphQLError && typeof error.extensions.code === 'string' ? error.extensions.code : undefined;
  const closeCode = code ? REFUSAL_CODES[code] ?? 4400 : 1011;
  if (!code) log.error('websocket connection failed', { error });
  const message = code ? `${code}: ${(error as Error).message}` : 'Internal server error';
  // A close reason is at most 123 bytes.
  socket.close(closeCode, Buffer.from(message).subarray(0, 123).toString());
}
