import { ErrorCode } from '../domain/common/errors';
import { graphQLError } from './errors';

/** The secret from `Authorization: Bearer <secret>`; undefined when there is no header. */
export function bearerSecret(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw graphQLError(ErrorCode.UNAUTHENTICATED, 'Authorization must be "Bearer <key>"', 401);
  return match[1];
}

/**
 * The Authorization value of a graphql-ws connection, from its connection parameters:
 * `{ authorization: 'Bearer <key>' }` (the header's format) or `{ apiKey: '<key>' }`.
 * Both may be sent when they name the same key. Undefined when neither is there.
 */
export function connectionAuthorization(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const { authorization, apiKey } = params ?? {};
  if (authorization !== undefined && typeof authorization !== 'string') {
    throw graphQLError(ErrorCode.UNAUTHENTICATED, 'connection parameter authorization must be a string "Bearer <key>"');
  }
  if (apiKey !== undefined && typeof apiKey !== 'string') {
    throw graphQLError(ErrorCode.UNAUTHENTICATED, 'connection parameter apiKey must be a string');
  }
  const fromApiKey = apiKey ? `Bearer ${apiKey}` : undefined;
  if (authorization && fromApiKey && bearerSecret(authorization) !== apiKey) {
    throw graphQLError(ErrorCode.UNAUTHENTICATED, 'connection parameters authorization and apiKey name different keys');
  }
  return authorization || fromApiKey;
}
