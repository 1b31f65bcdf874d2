import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { Image } from '../db/entities/image.entity';
import { withTenant } from '../db/tenant-session';
import type { ImageStore } from '../storage/image-store';
import type { SignedRoute, UrlSigner } from '../storage/signed-urls';
import type { Logger } from '../util/logger';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * GET /images/<project>/<image>?exp=&sig=: serves a stored image to whoever holds a signed,
 * unexpired URL (Render.url). The row is read in the project's RLS scope, so a valid signature
 * for one project can never reach another project's image. Any failure is a bare 404 or 403:
 * the answer tells nothing about what exists.
 */
export function imageRoute(dataSource: DataSource, signer: UrlSigner, store: ImageStore, log: Logger) {
  return async (req: Request, res: Response): Promise<void> => {
    const signed = verified(req, res, signer, 'images', String(req.params.imageId));
    if (!signed) return;
    const { projectId, id: imageId, exp } = signed;
    try {
      const image = await withTenant(dataSource, projectId, (s) => s.one(Image, `SELECT * FROM images WHERE id = $1`, [imageId]));
      const bytes = image && (await store.get(image.storageKey));
      if (!image || !bytes) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      const maxAge = Math.max(0, Number(exp) - Math.floor(Date.now() / 1000));
      res.set({ 'content-type': image.mime, 'cache-control': `private, max-age=${maxAge}, immutable`, etag: `"${image.contentHash}"` });
      res.send(bytes);
    } catch (error) {
      log.error('image route failed', { error, imageId });
      res.status(500).type('text/plain').send('internal error');
    }
  };
}

/**
 * GET /pages/<project>/<page>?exp=&sig=: a comic page or a whole-story download (story_pages),
 * under the same rules as images. Downloads come as attachments named after the story.
 */
export function pageRoute(dataSource: DataSource, signer: UrlSigner, store: ImageStore, log: Logger) {
  return async (req: Request, res: Response): Promise<void> => {
    const signed = verified(req, res, signer, 'pages', String(req.params.pageId));
    if (!signed) return;
    const { projectId, id: pageId, exp } = signed;
    try {
      const [page] = await withTenant(dataSource, projectId, (s) => s.query<{ storage_key: string; mime: string; format: string; content_hash: string; title: string }>(
        `SELECT p.storage_key, p.mime, p.format, p.content_hash, s.title FROM story_pages p JOIN stories s ON s.id = p.story_id WHERE p.id = $1`, [pageId]));
      const bytes = page && (await store.get(page.storage_key));
      if (!page || !bytes) {
        res.status(404).type('text/plain').send('not found (pages are drawn again when the story changes: ask for them anew)');
        return;
      }
      const maxAge = Math.max(0, Number(exp) - Math.floor(Date.now() / 1000));
      // attachment() guesses a type from the name; ours is set after it.
      if (page.format === 'pdf' || page.format === 'cbz') res.attachment(`${fileName(page.title)}.${page.format}`);
      res.set({ 'content-type': page.mime, 'cache-control': `private, max-age=${maxAge}, immutable`, etag: `"${page.content_hash}"` });
      res.send(bytes);
    } catch (error) {
      log.error('page route failed', { error, pageId });
      res.status(500).type('text/plain').send('internal error');
    }
  };
}

/** The project, id and expiry of a signed URL for `route`; or a 403 answered and undefined. */
function verified(req: Request, res: Response, signer: UrlSigner, route: SignedRoute, id: string) {
  const projectId = String(req.params.projectId);
  const exp = typeof req.query.exp === 'string' ? req.query.exp : '';
  const sig = typeof req.query.sig === 'string' ? req.query.sig : '';
  if (!UUID.test(projectId) || !UUID.test(id) || !signer.verify(projectId, id, exp, sig, undefined, route)) {
    res.status(403).type('text/plain').send(`invalid or expired ${route === 'images' ? 'image' : 'page'} URL`);
    return undefined;
  }
  return { projectId, id, exp };
}

/** A story title as a file name: letters, digits, spaces, dashes and dots; never empty. */
function fileName(title: string): string {
  const name = title.normalize('NFKC').replace(/[^\p{L}\p{N} ._-]+/gu, '').replace(/\s+/g, ' ').trim().slice(0, 100);
  return name.replace(/^\.+/, '') || 'story';
}
