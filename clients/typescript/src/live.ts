import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { FormattedExecutionResult } from 'graphql';
import { Client, createClient } from 'graphql-ws/client';
import { printed } from './documents';
import { ClientErrorCode, GraphQLErrorShape, StoryForgeError } from './errors';

export interface LiveOptions {
  /** The GraphQL URL (http or https); the socket opens on the same path. */
  url: string;
  apiKey: string;
  /** A WebSocket constructor; default: the global one (Node 22+, browsers), else the `ws` package. */
  webSocketImpl?: unknown;
}

/**
 * Subscriptions over graphql-ws on the API's own URL. One socket per client, opened by the first
 * subscription and closed when the last one ends, so a script that followed a job can exit.
 */
export class LiveConnection {
  private client: Client | undefined;

  constructor(private readonly options: LiveOptions) {}

  /** Each result's data in order until the server completes the operation; an error ends it by throwing. */
  async *subscribe<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>, variables: TVariables,
  ): AsyncGenerator<TResult, void, undefined> {
    const { query, operationName } = printed(document);
    const iterator = this.connect().iterate<TResult>({ query, operationName, variables });
    try {
      for (;;) {
        let step: IteratorResult<FormattedExecutionResult<TResult, unknown>>;
        try {
          step = await iterator.next();
        } catch (error) {
          throw liveError(error);
        }
        if (step.done) return;
        const { data, errors } = step.value;
        if (errors && errors.length > 0) throw StoryForgeError.fromGraphQL(errors);
        if (data === undefined || data === null) throw new StoryForgeError('a subscription result without data', ClientErrorCode.BAD_RESPONSE);
        yield data;
      }
    } finally {
      // Stops the server's side when the caller leaves early (break, throw).
      await iterator.return?.();
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.dispose();
  }

  private connect(): Client {
    this.client ??= createClient({
      url: this.options.url.replace(/^http/, 'ws'),
      webSocketImpl: this.options.webSocketImpl ?? defaultWebSocket(),
      connectionParams: { apiKey: this.options.apiKey },
      lazy: true,
      lazyCloseTimeout: 0,
      // A dropped connection is tried again (the server then sends the current state first, so
      // nothing is missed); a refusal (4400-4499: bad, revoked or wrong kind of key, rate limit) is final.
      shouldRetry: (event) => isCloseEvent(event) && !(event.code >= 4400 && event.code < 4500),
    });
    return this.client;
  }
}

function defaultWebSocket(): unknown {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global) return global;
  try {
    // Node before 22 has no WebSocket of its own: `ws` is the optional peer dependency for it.
    return require('ws') as unknown;
  } catch {
    throw new StoryForgeError('no WebSocket here: install `ws` (Node < 22) or pass webSocketImpl', ClientErrorCode.SOCKET_CLOSED);
  }
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number' && 'reason' in value;
}

/** graphql-ws rejects with the server's errors, a close event, or an Error: one StoryForgeError for all. */
function liveError(error: unknown): StoryForgeError {
  if (error instanceof StoryForgeError) return error;
  if (Array.isArray(error)) return StoryForgeError.fromGraphQL(error as GraphQLErrorShape[]);
  if (isCloseEvent(error)) {
    // The server's refusals read "CODE: message" (UNAUTHENTICATED: invalid or revoked API key).
    const reason = String(error.reason);
    const coded = /^([A-Z][A-Z_]+): (.*)$/s.exec(reason);
    return new StoryForgeError(coded?.[2] ?? `the subscription socket closed (${error.code}${reason ? `: ${reason}` : ''})`,
      coded?.[1] ?? ClientErrorCode.SOCKET_CLOSED, { closeCode: error.code });
  }
  return new StoryForgeError(error instanceof Error ? error.message : String(error), ClientErrorCode.NETWORK_ERROR, { cause: error });
}
