/**
 * Images go with what owns them. An image row is shared by content hash (two renders of the same
 * pixels are one image), so a delete removes only the rows nothing else uses any more. Removing
 * the row is what makes a signed URL stop working (the image route reads it); the file follows
 * through the images trigger and the image janitor (src/storage/image-janitor.ts).
 */
import type { TenantSession } from '../../db/tenant-session';

/**
 * The images of the renders of these frames, read under the frames' row locks: a render being
 * saved for one of them (saveRender holds its frame's lock) is then either committed and seen
 * here, or waits and finds its frame gone.
 */
export async function lockImagesOfFrames(session: TenantSession, where: { storyId: string } | { frameId: string }): Promise<string[]> {
  const [column, id] = 'storyId' in where ? ['story_id', where.storyId] : ['id', where.frameId];
  await session.query(`SELECT id FROM frames WHERE ${column} = $1 ORDER BY id FOR UPDATE`, [id]);
  const rows = await session.query<{ id: string }>(
    `SELECT DISTINCT unnest(ARRAY[r.image_id, r.webp_image_id, r.thumbnail_image_id]) AS id
     FROM renders r JOIN frames f ON f.id = r.frame_id WHERE f.${column} = $1`, [id]);
  return rows.map((r) => r.id).filter((v): v is string => v !== null);
}

/** Deletes those of `imageIds` that no render and no reference image uses any more. */
export async function releaseImages(session: TenantSession, imageIds: readonly string[]): Promise<number> {
  if (imageIds.length === 0) return 0;
  // Locked first, in one order: a render being saved with the same content either committed
  // before (and its use is seen by the next statement) or waits, then inserts the row anew.
  await session.query(`SELECT id FROM images WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [imageIds]);
  const deleted = await session.query(
    `DELETE FROM images i WHERE i.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM renders r WHERE r.image_id = i.id)
       AND NOT EXISTS (SELECT 1 FROM renders r WHERE r.webp_image_id = i.id)
       AND NOT EXISTS (SELECT 1 FROM renders r WHERE r.thumbnail_image_id = i.id)
       AND NOT EXISTS (SELECT 1 FROM reference_images ri WHERE ri.image_id = i.id)
     RETURNING i.id`, [imageIds]);
  return deleted.length;
}

/**
 * Files stored for a render that will not be saved (its frame was deleted meanwhile): queued for
 * the janitor like a deleted image's, which removes them unless an image row uses them.
 */
export async function forgetStoredFiles(session: TenantSession, files: readonly { contentHash: string; storageKey: string }[]): Promise<void> {
  if (files.length === 0) return;
  await session.query(
    `INSERT INTO image_file_deletions (project_id, content_hash, storage_key)
     SELECT $1, f.content_hash, f.storage_key FROM jsonb_to_recordset($2::jsonb) AS f(content_hash text, storage_key text)`,
    [session.projectId, JSON.stringify(files.map((f) => ({ content_hash: f.contentHash, storage_key: f.storageKey })))]);
}
