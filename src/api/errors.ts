import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { AppError, ErrorCode } from '../domain/common/errors';
import type { Logger } from '../util/logger';

/**
 * Codes Apollo or GraphQL themselves produce for bad requests, and ours; passed through unchanged.
 * Together they are every code a client can see besides INTERNAL_SERVER_ERROR.
 */
export const PROTOCOL_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE',
  ...Object.values(ErrorCode),
]);

/**
 * graphql-js suggests names ("Did you mean "storyUpdated"?", "Did you mean the enum value
 * "RUNNING"?"): with introspection off, that would hand out the schema piece by piece.
 */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * A GraphQLError carrying one of our codes, for failures raised outside resolvers (auth, limits).
 * `httpStatus` and `headers` shape the HTTP response; they never reach the error's JSON.
 */
export function graphQLError(code: ErrorCode, message: string, httpStatus?: number, extra: Record<string, unknown> = {},
  headers?: Map<string, string>): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code, ...extra, ...(httpStatus ? { http: { status: httpStatus, ...(headers ? { headers } : {}) } } : {}) },
  });
}

/**
 * The one place errors become responses, over HTTP and graphql-ws alike: an AppError becomes
 * `extensions.code` and `field`; protocol errors pass through; anything else is logged and
 * answered without details. No message suggests names of the schema.
 */
export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error, log);
    return { ...result, message: result.message.replace(SUGGESTION, '') };
  };
}

/**
 * Apollo refuses some malformed requests (a persisted query of an unknown version, or whose hash
 * does not match its query) with a 4xx status but no code, which Apollo then reports as
 * INTERNAL_SERVER_ERROR: they are the client's, BAD_REQUEST.
 */
function isCodelessClientError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function format(formatted: GraphQLFormattedError, error: unknown, log: Logger): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: original.code, ...(original.field ? { field: original.field } : {}), ...original.extensions },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PROTOCOL_CODES.has(code)) {
    const { stacktrace: _stack, http: _http, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (isCodelessClientError(error)) {
    const { stacktrace: _stack, http: _http, code: _code, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code: 'BAD_REQUEST' } };
  }
  log.error('unexpected error', { error: original, path: formatted.path });
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
