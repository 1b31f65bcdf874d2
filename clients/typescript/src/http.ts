import type { DocumentNode } from 'graphql';
import { printed } from './documents';
import { ClientErrorCode, GraphQLErrorShape, StoryForgeError } from './errors';

export type Fetch = typeof globalThis.fetch;

export interface HttpOptions {
  url: string;
  apiKey: string;
  fetch: Fetch;
}

/** Per call: what only some requests send. */
export interface RequestOptions {
  /** Sent as `Idempotency-Key`: a retried job mutation with the same key answers the same job. */
  idempotencyKey?: string;
}

/**
 * One GraphQL request over HTTP. Any error in the answer fails the call: mutation results are
 * nullable, so a refused mutation answers `null` next to its error, and handing that null back
 * would lose why.
 */
export async function postGraphQL(options: HttpOptions, document: DocumentNode, variables: unknown, extra: RequestOptions = {}): Promise<unknown> {
  const { query, operationName } = printed(document);
  let response: Response;
  try {
    response = await options.fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // The GraphQL-over-HTTP media type: refused requests then come with their 4xx status, not 200.
        accept: 'application/graphql-response+json, application/json;q=0.9',
        authorization: `Bearer ${options.apiKey}`,
        ...(extra.idempotencyKey ? { 'idempotency-key': extra.idempotencyKey } : {}),
      },
      body: JSON.stringify({ query, operationName, variables }),
    });
  } catch (error) {
    throw new StoryForgeError(`could not reach ${options.url}: ${networkReason(error)}`, ClientErrorCode.NETWORK_ERROR, { cause: error });
  }
  const text = await response.text();
  let body: { data?: unknown; errors?: GraphQLErrorShape[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new StoryForgeError(`${options.url} answered ${response.status} without a GraphQL response: ${text.slice(0, 200)}`,
      ClientErrorCode.BAD_RESPONSE, { status: response.status });
  }
  if (body.errors && body.errors.length > 0) throw StoryForgeError.fromGraphQL(body.errors, response.status);
  if (body.data === undefined || body.data === null) {
    throw new StoryForgeError(`${options.url} answered ${response.status} with neither data nor errors`, ClientErrorCode.BAD_RESPONSE, { status: response.status });
  }
  return body.data;
}

/** fetch's own message is "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, bad port) is on its cause. */
export function networkReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? (error.cause as Error & { code?: unknown }) : undefined;
  if (!cause) return message;
  return `${message} (${typeof cause.code === 'string' ? cause.code : cause.message})`;
}
