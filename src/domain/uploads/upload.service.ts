/**
 * Uploaded pictures: normalised (src/images/uploads.ts), stored by content hash, and recorded
 * as an image of the project. The same picture sent twice is one image. An upload becomes a
 * reference image when a character takes it (addReferenceImages); one nothing takes expires
 * (ImageJanitor.deleteUnusedImages), counted from its last upload.
 */
import type { TenantSession } from '../../db/tenant-session';
import { Image } from '../../db/entities/image.entity';
import { DEFAULT_UPLOAD_LIMITS, UploadLimits, normaliseUpload } from '../../images/uploads';
import { ImageStore, imageKey } from '../../storage/image-store';

export class UploadService {
  constructor(private readonly store: ImageStore, readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS) {}

  /** Throws ImageUploadError (with a stable code) for anything that is not a usable still picture. */
  async upload(session: TenantSession, bytes: Uint8Array): Promise<{ image: Image; created: boolean }> {
    const picture = await normaliseUpload(bytes, this.limits);
    const storageKey = imageKey(session.projectId, picture.sha256, picture.mime);
    // Stored before the row, so a row never points at missing bytes (bytes left without a row
    // are never served, and the next upload of the same picture reuses them).
    await this.store.put(storageKey, picture.png, picture.mime);
    // One statement: a picture sent again is the same row, its age restarted, so an unused
    // upload sent again just before it would expire is not swept before a character takes it.
    // The row lock it takes also keeps the sweep (FOR UPDATE SKIP LOCKED) off it meanwhile.
    const [row] = await session.query<Record<string, unknown> & { created: boolean }>(
      `INSERT INTO images (project_id, content_hash, mime, width, height, byte_size, storage_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (project_id, content_hash) DO UPDATE SET created_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [session.projectId, picture.sha256, picture.mime, picture.width, picture.height, picture.byteSize, storageKey]);
    return { image: session.map(Image, [row!])[0]!, created: row!.created };
  }
}
