import type { TenantSession } from '../../db/tenant-session';

/** Image bytes already in the image store, described for their row. */
export interface StoredImage {
  contentHash: string;
  mime: string;
  width: number;
  height: number;
  byteSize: number;
  storageKey: string;
}

/**
 * The id of the project's image row for these bytes, made on first use: an image is shared by
 * content hash (two renders, or an upload sent twice, are one row).
 */
export async function upsertImage(session: TenantSession, image: StoredImage): Promise<string> {
  // DO UPDATE (a no-op write) so RETURNING gives the id of an image stored before.
  const [row] = await session.query<{ id: string }>(
    `INSERT INTO images (project_id, content_hash, mime, width, height, byte_size, storage_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (project_id, content_hash) DO UPDATE SET content_hash = EXCLUDED.content_hash RETURNING id`,
    [session.projectId, image.contentHash, image.mime, image.width, image.height, image.byteSize, image.storageKey]);
  return row!.id;
}
