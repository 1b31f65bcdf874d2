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
import { upsertImageRow } from '../images/image-rows';

export class UploadService {
  constructor(private readonly store: ImageStore, readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS) {}

  /** Throws ImageUploadError (with a stable code) for anything that is not a usable still picture. */
  async upload(session: TenantSession, bytes: Uint8Array): Promise<{ image: Image; created: boolean }> {
    const picture = await normaliseUpload(bytes, this.limits);
    const storageKey = imageKey(session.projectId, picture.sha256, picture.mime);
    // Stored before the row, so a row never points at missing bytes (bytes left without a row
    // are never served, and the next upload of the same picture reuses them).
    await this.store.put(storageKey, picture.png, picture.mime);
    // A picture sent again is the same row, its age restarted: an unused upload sent again just
    // before it would expire is not swept before a character takes it.
    const { row, created } = await upsertImageRow(session, {
      contentHash: picture.sha256, mime: picture.mime, width: picture.width, height: picture.height, byteSize: picture.byteSize, storageKey,
    });
    return { image: session.map(Image, [row])[0]!, created };
  }
}
