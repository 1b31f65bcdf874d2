import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { Image } from '../db/entities/image.entity';
import { withTenant } from '../db/tenant-session';
import type { ImageStore } from '../storage/image-store';
import type { UrlSigner } from '../storage/signed-urls';
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
    const projectId = String(req.params.projectId);
    const imageId = String(req.params.imageId);
    const exp = typeof req.query.exp === 'string' ? req.query.exp : '';
    const sig = typeof req.query.sig === 'string' ? req.query.sig : '';
    if (!UUID.test(projectId) || !UUID.test(imageId) || !signer.verify(projectId, imageId, exp, sig)) {
      res.status(403).type('text/plain').send('invalid or expired image URL');
      return;
    }
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
