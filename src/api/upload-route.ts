/**
 * POST /uploads: a picture's bytes as the request body (any content type: the type is read from
 * the bytes), with the project key in `Authorization: Bearer`. Answers 201 with the upload's id
 * (an Image id, which addReferenceImages takes) or 200 when the project already had that
 * picture. Refusals are JSON shaped like GraphQL errors, with a stable `extensions.code`:
 * UNAUTHENTICATED 401, FORBIDDEN 403, RATE_LIMITED 429, and the upload's own codes (EMPTY,
 * TOO_LARGE 413, UNSUPPORTED_TYPE 415, CORRUPT, TOO_MANY_PIXELS, BAD_SIZE, ANIMATED: 400).
 */
import express, { NextFunction, Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import { AppError, ErrorCode } from '../domain/common/errors';
import { ImageUploadError, UploadErrorCode } from '../images/uploads';
import type { Logger } from '../util/logger';
import type { RequestContext } from './context';
import { toGlobalId } from './global-id';

const UPLOAD_STATUS: Partial<Record<UploadErrorCode, number>> = { TOO_LARGE: 413, UNSUPPORTED_TYPE: 415 };
const APP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401, [ErrorCode.FORBIDDEN]: 403, [ErrorCode.RATE_LIMITED]: 429,
};

function refuse(res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extra } }] });
}

export function uploadRoute(maxBytes: number, contextFor: (req: Request) => Promise<RequestContext>, log: Logger) {
  // The body is read up to the limit and no further: a larger one is refused while it streams.
  const body = express.raw({ type: () => true, limit: maxBytes });
  const tooLarge = (error: { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (error?.type === 'entity.too.large') return refuse(res, 413, 'TOO_LARGE', `the upload is over ${maxBytes} bytes`);
    if (error?.status && error.status < 500) return refuse(res, error.status, ErrorCode.BAD_USER_INPUT, 'the request body cannot be read');
    next(error);
  };
  const handle = async (req: Request, res: Response): Promise<void> => {
    let ctx: RequestContext | undefined;
    let ok = false;
    try {
      ctx = await contextFor(req);
      ctx.require('editor');
      const bytes: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const { image, created } = await ctx.services.uploads.upload(ctx.session, bytes);
      await ctx.finish(true);
      ok = true;
      res.status(created ? 201 : 200).json({
        id: toGlobalId('Image', image.id), mime: image.mime, width: image.width, height: image.height, byteSize: image.byteSize,
        contentHash: image.contentHash,
      });
    } catch (error) {
      if (error instanceof ImageUploadError) return refuse(res, UPLOAD_STATUS[error.code] ?? 400, error.code, error.message);
      if (error instanceof GraphQLError && typeof error.extensions.code === 'string') {
        // Admission's refusals (bad key, rate limits) carry their HTTP status and headers.
        const { code, http, ...extra } = error.extensions as { code: string; http?: { status?: number; headers?: Map<string, string> } };
        for (const [name, value] of http?.headers ?? []) res.set(name, value);
        return refuse(res, http?.status ?? 400, code, error.message, extra);
      }
      if (error instanceof AppError) {
        const retry = error.extensions?.retryAfterSeconds;
        if (typeof retry === 'number') res.set('retry-after', String(retry));
        return refuse(res, APP_STATUS[error.code] ?? 400, error.code, error.message, error.extensions ?? {});
      }
      log.error('upload failed', { error, requestId: ctx?.requestId });
      refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'the upload could not be stored');
    } finally {
      if (!ok) await ctx?.finish(false).catch(() => undefined);
    }
  };
  return [body, tooLarge, handle] as const;
}
