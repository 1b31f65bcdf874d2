/**
 * A character's reference images: the pictures its identity is anchored on instead of
 * generated identity frames. They are a reference set (made on first use, one per character)
 * of uploaded images in order, each with an optional crop box. Any change to the set is a change
 * of identity: the character's anchorVersion goes up, and its next bank is written from the new
 * set. A picture removed from the set is deleted when nothing else uses it.
 */
import type { TenantSession } from '../../db/tenant-session';
import { Character } from '../../db/entities/character.entity';
import { Image } from '../../db/entities/image.entity';
import { ReferenceImage } from '../../db/entities/reference-image.entity';
import { CropBox, cropProblem } from '../../images/reference-pictures';
import { badInput, conflict, notFound } from '../common/errors';
import { releaseImages } from '../renders/image-release';

/** More pictures than identity frames would only slow every bank build. */
export const MAX_REFERENCE_IMAGES = 8;

export interface NewReference {
  imageId: string;
  crop?: CropBox | null;
}

export class ReferenceImageService {
  async add(session: TenantSession, characterId: string, items: readonly NewReference[]): Promise<Character> {
    if (items.length === 0) throw badInput('images', 'list at least one image');
    return session.atomically(async () => {
      const character = await lockCharacter(session, characterId);
      const ids = [...new Set(items.map((i) => i.imageId))];
      // KEY SHARE: the image janitor skips (never deletes) an unused upload while it is being taken.
      const images = await session.rows(Image, `SELECT * FROM images WHERE id = ANY($1::uuid[]) FOR KEY SHARE`, [ids]);
      const byId = new Map(images.map((i) => [i.id, i]));
      items.forEach((item, k) => {
        const image = byId.get(item.imageId);
        if (!image) throw notFound(`images[${k}].uploadId`, 'upload');
        if (item.crop) {
          const problem = cropProblem(item.crop, image.width, image.height);
          if (problem) throw badInput(`images[${k}].crop`, problem);
        }
      });
      let setId = character.referenceImageSetId;
      if (!setId) {
        const [set] = await session.query<{ id: string }>(
          `INSERT INTO reference_image_sets (project_id, name) VALUES ($1, $2) RETURNING id`, [session.projectId, character.name]);
        setId = set!.id;
        await session.query(`UPDATE characters SET reference_image_set_id = $2 WHERE id = $1`, [characterId, setId]);
      }
      const [{ count, next }] = await session.query<{ count: number; next: number }>(
        `SELECT count(*)::int AS count, coalesce(max(position) + 1, 0)::int AS next FROM reference_images WHERE set_id = $1`, [setId]);
      if (count + items.length > MAX_REFERENCE_IMAGES) {
        throw conflict('images', `a character takes at most ${MAX_REFERENCE_IMAGES} reference images; it has ${count}, and ${items.length} more were sent`);
      }
      for (const [k, item] of items.entries()) {
        const c = item.crop ?? null;
        await session.query(
          `INSERT INTO reference_images (project_id, set_id, image_id, position, crop_x, crop_y, crop_width, crop_height)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [session.projectId, setId, item.imageId, next + k, c?.x ?? null, c?.y ?? null, c?.width ?? null, c?.height ?? null]);
      }
      return bumpAnchor(session, characterId);
    });
  }

  async remove(session: TenantSession, characterId: string, referenceImageId: string): Promise<Character> {
    return session.atomically(async () => {
      const character = await lockCharacter(session, characterId);
      const [removed] = await session.query<{ image_id: string }>(
        `DELETE FROM reference_images WHERE id = $1 AND set_id = $2 RETURNING image_id`, [referenceImageId, character.referenceImageSetId]);
      if (!removed) throw notFound('referenceImageId', 'reference image');
      await closeGap(session, character.referenceImageSetId!);
      await releaseImages(session, [removed.image_id]);
      return bumpAnchor(session, characterId);
    });
  }

  /** The pictures of each set, in order. */
  async ofSets(session: TenantSession, setIds: readonly string[]): Promise<Map<string, ReferenceImage[]>> {
    const rows = await session.rows(ReferenceImage,
      `SELECT * FROM reference_images WHERE set_id = ANY($1::uuid[]) ORDER BY set_id, position`, [setIds]);
    const out = new Map<string, ReferenceImage[]>(setIds.map((id) => [id, []]));
    for (const r of rows) out.get(r.setId)?.push(r);
    return out;
  }
}

export function cropOf(r: ReferenceImage): CropBox | null {
  return r.cropX === null ? null : { x: r.cropX, y: r.cropY!, width: r.cropWidth!, height: r.cropHeight! };
}

async function lockCharacter(session: TenantSession, id: string): Promise<Character> {
  const character = await session.one(Character, `SELECT * FROM characters WHERE id = $1 FOR UPDATE`, [id]);
  if (!character) throw notFound('characterId', 'character');
  return character;
}

/**
 * Positions 0..n-1 again after a removal, in the same order. In two steps, through values above
 * every position in use: (set_id, position) is unique row by row, and one shifting UPDATE could
 * collide with itself.
 */
async function closeGap(session: TenantSession, setId: string): Promise<void> {
  await session.query(
    `UPDATE reference_images r SET position = n.above + n.rank
     FROM (SELECT id, row_number() OVER (ORDER BY position)::int - 1 AS rank, max(position) OVER ()::int + 1 AS above
           FROM reference_images WHERE set_id = $1) n
     WHERE r.id = n.id`, [setId]);
  // The subquery is read once, before any row moves: the lowest is `above`.
  await session.query(
    `UPDATE reference_images SET position = position - (SELECT min(position) FROM reference_images WHERE set_id = $1) WHERE set_id = $1`, [setId]);
}

async function bumpAnchor(session: TenantSession, id: string): Promise<Character> {
  return (await session.one(Character,
    `UPDATE characters SET anchor_version = anchor_version + 1, updated_at = now() WHERE id = $1 RETURNING *`, [id]))!;
}
