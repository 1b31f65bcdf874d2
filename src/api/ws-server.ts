import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { AppError, ErrorCode } from '../domain/common/errors';
import type { Logger } from '../util/logger';
import { connectionAuthorization } from './auth-header';
import type { RequestContext } from './context';
import { createErrorFormatter } from './errors';
import type { OperationRules } from './limits';
import { checkOperation } from './operation-checks';
import { WsExtra, serveGraphqlWs } from './ws-transport';

export interface GraphqlWsOptions {
  schema: GraphQLSchema;
  /** The same parse options and validation rules as HTTP (tokens, depth, aliases, directives, introspection). */
  rules: OperationRules;
  maxQueryCost: number;
  /** The same admission (key, per-key and per-address limits) and context as an HTTP request. */
  contextFor(request: IncomingMessage, authorization: string | undefined): Promise<RequestContext>;
  /** Throws an AppError when the key is no longer valid (revoked); no rate limit taken. */
  authenticate(authorization: string): Promise<unknown>;
  /** Calls `changed` after each announced change of the key (its revocation, from any process); returns the unwatch function. */
  watchKey(keyId: string, projectId: string, changed: () => void): () => void;
  /** How often an open connection's key is also read again (revocations made outside the API). */
  keyRecheckMs: number;
  /** The HTTP body limit, applied to each message. */
  maxMessageBytes: number;
  log: Logger;
}

/** Open connections and operations of this process (operations, tests). */
export interface WsCounts {
  sockets: number;
  operations: number;
}

/** Close codes for a refused connection (graphql-ws keeps 4400-4499 for such reasons). */
const REFUSAL_CODES: Partial<Record<string, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 4401,
  [ErrorCode.FORBIDDEN]: 4403,
  [ErrorCode.RATE_LIMITED]: 4429,
};

/** An accepted connection: its key, and the context of each of its running operations. */
interface Connection {
  authorization: string;
  /** The upgrade request: each operation's context is admitted under its client address, like an HTTP request. */
  request: IncomingMessage;
  /** Keyed by the subscribe message's payload, which graphql-ws hands to every hook of that operation: an id may be reused once completed. */
  operations: Map<SubscribePayload, RequestContext>;
  stopWatching(): void;
  recheck: NodeJS.Timeout;
}

type WsContext = Context<Record<string, unknown> | undefined, WsExtra>;

/**
 * graphql-ws on the API's http.Server at /graphql. The key comes in the connection parameters
 * and is checked on connect: a missing, malformed, unknown or revoked key closes the socket with
 * 4401 and a reason saying why (4429 once the address has spent its budget). Each operation then
 * authenticates again, passes the same parse, validation and operation checks as HTTP, and gets
 * its own RequestContext. A subscription's context commits and drops its transaction after the
 * subscribe check and after every event, so a waiting subscription holds no connection.
 *
 * A revoked key's sockets close at once: revocation is announced through PostgreSQL, so every API
 * process hears it, and each then reads the key again before closing anything. The key is also
 * read again after the listening connection reconnects (announcements sent meanwhile are lost)
 * and every `keyRecheckMs`, for revocations made outside the API.
 */
export function attachGraphqlWs(httpServer: Server, options: GraphqlWsOptions): { dispose(): Promise<void>; counts(): WsCounts } {
  const { schema, rules, contextFor, log } = options;
  const formatError = createErrorFormatter(log);
  const connections = new Map<WsContext, Connection>();

  /** graphql-js's own request errors carry no code: they are the client's (BAD_USER_INPUT). */
  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => {
      const json = error.toJSON();
      const coded = error.originalError || typeof json.extensions?.code === 'string'
        ? json : { ...json, extensions: { ...json.extensions, code: ErrorCode.BAD_USER_INPUT } };
      return formatError(coded, error);
    });

  const end = async (ctx: WsContext, payload: SubscribePayload, commit: boolean) => {
    const operations = connections.get(ctx)?.operations;
    const context = operations?.get(payload);
    operations?.delete(payload);
    await context?.finish(commit);
  };

  const transport = serveGraphqlWs(httpServer, {
    onConnect: async (ctx) => {
      const socket = ctx.extra.socket;
      try {
        let authorization: string | undefined;
        try {
          authorization = connectionAuthorization(ctx.connectionParams);
        } catch (malformed) {
          // Spends the address's key-less budget, as any request without a usable key does.
          await contextFor(ctx.extra.request, undefined);
          throw malformed;
        }
        const context = await contextFor(ctx.extra.request, authorization);
        if (!context.principal || authorization === undefined) {
          throw new AppError(ErrorCode.UNAUTHENTICATED,
            `send the API key in the connection parameters: { authorization: 'Bearer <key>' } or { apiKey: '<key>' }`);
        }
        if (context.principal.kind !== 'key') throw new AppError(ErrorCode.FORBIDDEN, 'subscriptions need a project API key');
        const key = authorization;
        const check = () => {
          options.authenticate(key).catch((error) => {
            if (error instanceof AppError) refuse(socket, error, log);
            else log.warn('websocket key check failed; keeping the connection', { error });
          });
        };
        const recheck = setInterval(check, options.keyRecheckMs);
        recheck.unref();
        connections.set(ctx, {
          authorization: key, request: ctx.extra.request, operations: new Map(), recheck,
          stopWatching: options.watchKey(context.principal.keyId, context.principal.projectId, check),
        });
        return true;
      } catch (error) {
        refuse(socket, error, log);
        return false;
      }
    },

    onSubscribe: async (ctx, _id, payload) => {
      const connection = connections.get(ctx);
      // graphql-ws refuses a subscribe before the acknowledgement; this is a socket closing meanwhile.
      if (!connection) return [new GraphQLError('the connection is closing', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
      let document;
      try {
        document = parse(payload.query, rules.parseOptions);
      } catch (error) {
        return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
      }
      const invalid = validate(schema, document, [...specifiedRules, ...rules.validationRules]);
      if (invalid.length > 0) return invalid.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
      let contextValue: RequestContext;
      try {
        checkOperation(schema, document, payload.variables, payload.operationName, options.maxQueryCost);
        contextValue = await contextFor(connection.request, connection.authorization);
      } catch (error) {
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
      connection.operations.set(payload, contextValue);
      return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
    },

    // A query or mutation commits before its result goes out; a subscription lets go of the
    // transaction its subscribe check used.
    onOperation: async (ctx, _id, payload) => {
      await connections.get(ctx)?.operations.get(payload)?.release();
    },

    onNext: async (ctx, _id, payload, _args, result) => {
      await connections.get(ctx)?.operations.get(payload)?.release();
      if (!result.errors) return undefined;
      return { ...result, errors: format(result.errors) };
    },

    onError: async (ctx, _id, payload, errors) => {
      await end(ctx, payload, false);
      return format(errors);
    },

    onComplete: async (ctx, _id, payload) => {
      await end(ctx, payload, true);
    },

    // graphql-ws has ended every subscription of the socket before this runs.
    onClose: async (ctx) => {
      const connection = connections.get(ctx);
      if (!connection) return;
      clearInterval(connection.recheck);
      connection.stopWatching();
      for (const payload of [...connection.operations.keys()]) await end(ctx, payload, false);
      connections.delete(ctx);
    },
  }, { path: '/graphql', maxMessageBytes: options.maxMessageBytes, keepAliveMs: 12_000, log });

  return {
    dispose: () => transport.dispose(),
    counts: () => {
      let operations = 0;
      for (const connection of connections.values()) operations += connection.operations.size;
      return { sockets: connections.size, operations };
    },
  };
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
