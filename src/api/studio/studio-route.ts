/**
 * The studio (clients/studio, built by `npm run build:studio` into dist/studio) at `/`: the same
 * origin as the API, so the page needs no CORS and loads nothing from elsewhere (offline render
 * hosts). Vite's hashed files under /assets never change and are cached for a year; index.html
 * is revalidated on every load so a new build is picked up at once. Paths of the studio's own
 * views (/stories/<id>, /characters) answer index.html, so a reload or a shared link works.
 * Always on, also in production: the studio holds no secrets, the key is pasted into it.
 */
import { existsSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import express, { NextFunction, Request, Response, Router } from 'express';
import type { ImageStore } from '../../storage/image-store';
import { projectRoot } from '../../util/project-root';

/** Where `vite build --config clients/studio/vite.config.mjs` writes. */
export const STUDIO_DIST = join(projectRoot(), 'dist', 'studio');

/** Paths other routes of the server own: a miss there is theirs to answer (404), never the studio page. */
const SERVER_PATHS = ['/graphql', '/graphiql', '/images', '/pages', '/uploads', '/healthz', '/readyz', '/metrics', '/assets'];

const NOT_BUILT = 'The studio is not built: run `npm run build:studio`.\n';

export interface StudioOptions {
  /** The build to serve (tests); default dist/studio. */
  dir?: string;
  /** With presigned bucket URLs (STORYFORGE_S3_PRESIGN=1) the pictures come from the bucket's origin, which the page must allow. */
  images?: Pick<ImageStore, 'presignedUrl'>;
  /** STORYFORGE_PUBLIC_URL: the origin of the picture URLs in answers, which may not be the page's own. */
  publicUrl?: string;
}

export function studioRouter(options: StudioOptions = {}): Router {
  const dir = options.dir ?? STUDIO_DIST;
  const index = join(dir, 'index.html');
  const assets = join(dir, 'assets') + sep;
  const csp = contentSecurityPolicy(options);
  const router = express.Router();

  router.use(async (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isStudioPath(req.path)) return next();
    if (!existsSync(index)) {
      res.status(503).set('cache-control', 'no-store').type('text/plain').send(NOT_BUILT);
      return;
    }
    res.set({
      'content-security-policy': await csp(),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    res.sendFile(index, (error) => {
      if (error && !res.headersSent) next(error);
    });
  });
  // What the page loads: a name that is not there falls through to the server's 404.
  router.use(express.static(dir, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    setHeaders: (res, path) => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  }));
  return router;
}

/** A view of the studio: not another route's path, and not a file name (a missing file is a 404, not the page). */
function isStudioPath(path: string): boolean {
  if (SERVER_PATHS.some((p) => path === p || path.startsWith(p + '/'))) return false;
  return extname(path) === '' || path.endsWith('/index.html');
}

/**
 * Scripts, styles and connections only from this origin ('self' covers ws:// and wss:// to it,
 * which graphql-ws uses); pictures from here, from the public URL's origin (answers' image URLs
 * start with it), or from the bucket when URLs are presigned there.
 */
function contentSecurityPolicy(options: StudioOptions): () => Promise<string> {
  let policy: Promise<string> | undefined;
  return () => (policy ??= imageOrigin(options.images).then((bucket) => {
    const sources = [...new Set([options.publicUrl && new URL(options.publicUrl).origin, bucket].filter(Boolean))];
    return [
      "default-src 'self'", "script-src 'self'", "style-src 'self'", ["img-src 'self' data: blob:", ...sources].join(' '),
      "font-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'",
    ].join('; ');
  }));
}

/** The origin presigned URLs point at: signing is local, so one made-up key tells it without a request. */
async function imageOrigin(images: StudioOptions['images']): Promise<string | undefined> {
  if (!images?.presignedUrl) return undefined;
  try {
    return new URL(await images.presignedUrl('studio-origin-probe', 60)).origin;
  } catch {
    // The page still works; only the bucket's pictures stay blocked.
    return undefined;
  }
}
