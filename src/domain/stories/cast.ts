import type { TenantSession } from '../../db/tenant-session';
import { badInput, notFound } from '../common/errors';
import { LIMITS } from '../common/validation';

export interface CastMember {
  id: string;
  name: string;
}

export async function loadCast(session: TenantSession, storyId: string): Promise<CastMember[]> {
  return session.query<CastMember>(
    `SELECT c.id, c.name FROM story_characters sc JOIN characters c ON c.id = sc.character_id
     WHERE sc.story_id = $1 ORDER BY sc.position`, [storyId]);
}

/** Resolves requested cast ids (in order) to characters of this project, or NOT_FOUND. */
export async function resolveCast(session: TenantSession, ids: readonly string[], field = 'characterIds'): Promise<CastMember[]> {
  if (new Set(ids).size !== ids.length) throw badInput(field, `${field} lists a character twice`);
  if (ids.length > LIMITS.castSize) throw badInput(field, `a story casts at most ${LIMITS.castSize} characters`);
  if (ids.length === 0) return [];
  // FOR SHARE: a concurrent deleteCharacter (FOR UPDATE) either finishes first, and the character
  // is then NOT_FOUND here, or waits until this cast is committed, and then answers CONFLICT.
  const rows = await session.query<CastMember>(`SELECT id, name FROM characters WHERE id = ANY($1::uuid[]) FOR SHARE`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const member = byId.get(id);
    if (!member) throw notFound(field, 'character');
    return member;
  });
}

export async function replaceCast(session: TenantSession, storyId: string, cast: readonly CastMember[]): Promise<void> {
  await session.query(`DELETE FROM story_characters WHERE story_id = $1`, [storyId]);
  if (cast.length === 0) return;
  await session.query(
    `INSERT INTO story_characters (story_id, character_id, project_id, position)
     SELECT $1, id, $2, ord - 1 FROM unnest($3::uuid[]) WITH ORDINALITY AS t(id, ord)`,
    [storyId, session.projectId, cast.map((c) => c.id)]);
}
