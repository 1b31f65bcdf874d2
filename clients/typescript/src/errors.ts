/** One GraphQL error as the server formats it: `extensions.code` is stable, the message is for people. */
export interface GraphQLErrorShape {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { readonly [key: string]: unknown };
}

/**
 * Codes the client gives failures that carry no GraphQL error: the server's own codes
 * (BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ...) come from `extensions.code`.
 */
export const ClientErrorCode = {
  /** The request never got an answer (refused connection, DNS, reset). */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** An answer that is not a GraphQL response (a proxy's error page, an empty body). */
  BAD_RESPONSE: 'BAD_RESPONSE',
  /** A signed URL (render, page, comic file) answered other than 2xx: expired, tampered or deleted. */
  DOWNLOAD_FAILED: 'DOWNLOAD_FAILED',
  /** The subscription socket closed without a reason the server coded. */
  SOCKET_CLOSED: 'SOCKET_CLOSED',
} as const;

export interface StoryForgeErrorDetails {
  /** The HTTP status, when the failure came over HTTP. */
  status?: number;
  /** Where in the result the first error happened (`['createStory']`). */
  path?: readonly (string | number)[];
  /** The input at fault (`extensions.field`). */
  field?: string;
  /** For RATE_LIMITED: when to try again. */
  retryAfterSeconds?: number;
  /** The WebSocket close code, for a refused or dropped subscription. */
  closeCode?: number;
  /** Every error of the response, as sent. */
  errors?: readonly GraphQLErrorShape[];
  cause?: unknown;
}

/** Every failure of a StoryForge call: the first error's code and message, and where it came from. */
export class StoryForgeError extends Error {
  override readonly name = 'StoryForgeError';
  /** The GraphQL error's `extensions.code`, or a ClientErrorCode. */
  readonly code: string;
  readonly status: number | undefined;
  readonly path: readonly (string | number)[] | undefined;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly closeCode: number | undefined;
  readonly errors: readonly GraphQLErrorShape[];

  constructor(message: string, code: string, details: StoryForgeErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.path = details.path;
    this.field = details.field;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.closeCode = details.closeCode;
    this.errors = details.errors ?? [];
  }

  /** From a response's errors: the first one decides code, path and field; all are kept. */
  static fromGraphQL(errors: readonly GraphQLErrorShape[], status?: number): StoryForgeError {
    const [first] = errors;
    const { code, field, retryAfterSeconds } = first?.extensions ?? {};
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    return new StoryForgeError(`${first?.message ?? 'unknown error'}${more}`, typeof code === 'string' ? code : ClientErrorCode.BAD_RESPONSE, {
      status,
      path: first?.path,
      field: typeof field === 'string' ? field : undefined,
      retryAfterSeconds: typeof retryAfterSeconds === 'number' ? retryAfterSeconds : undefined,
      errors,
    });
  }
}
