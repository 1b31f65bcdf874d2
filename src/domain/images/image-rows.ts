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
 * The project's image row for these bytes, made on first use: an image is shared by content hash
 * (two renders, or an upload sent twice, are one row). Storing the same bytes again restarts its
 * age (`created_at`), from which an image nothing uses expires (ImageJanitor.deleteUnusedImages);
 * the row lock the update takes keeps the sweep (FOR UPDATE SKIP LOCKED) off it meanwhile.
 */
export async function upsertImageRow(session: TenantSession, image: StoredImage): Promise<{ row: Record<string, unknown> & { id: string }; created: boolean }> {
  const [row] = await session.query<Record<string, unknown> & { id: string; created: boolean }>(
    `INSERT INTO images (project_id, content_hash, mime, width, height, byte_size, storage_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (project_id, content_hash) DO UPDATE SET created_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [session.projectId, image.contentHash, image.mime, image.width, image.height, image.byteSize, image.storageKey]);
  const { created, ...rest } = row!;
  return { row: rest, created };
}

/** The id of the project's image row for these bytes (upsertImageRow). */
export async function upsertImage(session: TenantSession, image: StoredImage): Promise<string> {
  return (await upsertImageRow(session, image)).row.id;
}
