/** Every expected failure has one of these codes; the API maps them to `extensions.code` in one place. */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  RATE_LIMITED = 'RATE_LIMITED',
  /** The named model pack is not installed in this deployment. */
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
  /** The model pack does not render that width and height. */
  UNSUPPORTED_SIZE = 'UNSUPPORTED_SIZE',
  /** The model cannot anchor a character on reference images (a latent pack without an image encoder). */
  REFERENCES_UNSUPPORTED = 'REFERENCES_UNSUPPORTED',
}

/** An expected failure: a stable code, a message for people, and the input field at fault. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** More for the client (e.g. `retryAfterSeconds`), passed on in `extensions`. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badInput = (field: string, message: string): AppError => new AppError(ErrorCode.BAD_USER_INPUT, message, field);
export const notFound = (field: string, what: string): AppError => new AppError(ErrorCode.NOT_FOUND, `${what} not found`, field);
export const unknownModel = (field: string, message: string): AppError => new AppError(ErrorCode.UNKNOWN_MODEL, message, field);
export const unsupportedSize = (field: string, message: string): AppError => new AppError(ErrorCode.UNSUPPORTED_SIZE, message, field);
export const conflict = (field: string, message: string): AppError => new AppError(ErrorCode.CONFLICT, message, field);
export const forbidden = (message: string): AppError => new AppError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message: string): AppError => new AppError(ErrorCode.UNAUTHENTICATED, message);
export const rateLimited = (message: string, retryAfterSeconds: number): AppError =>
  new AppError(ErrorCode.RATE_LIMITED, message, undefined, { retryAfterSeconds });

/** PostgreSQL's unique_violation, for turning a lost race into CONFLICT rather than a 500. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.driverError?.code ?? e?.code;
  const name = e?.driverError?.constraint ?? e?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}
