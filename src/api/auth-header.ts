import { ErrorCode } from '../domain/common/errors';
import { graphQLError } from './errors';

/** The secret from `Authorization: Bearer <secret>`; undefined when there is no header. */
export function bearerSecret(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw graphQLError(ErrorCode.UNAUTHENTICATED, 'Authorization must be "Bearer <key>"', 401);
  return match[1];
}
