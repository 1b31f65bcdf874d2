import type { TenantSession } from '../../db/tenant-session';
import { Frame } from '../../db/entities/frame.entity';
import type { ScriptFrame } from '../stories/script-parser';
import type { CastMember } from '../stories/cast';

/** Inserts parsed script frames at positions start, start+1, ... in one statement. */
export async function insertFrames(
  session: TenantSession, storyId: string, frames: readonly ScriptFrame[], cast: readonly CastMember[], start: number,
): Promise<Frame[]> {
  if (frames.length === 0) return [];
  const idByName = new Map(cast.map((c) => [c.name, c.id]));
  const records = frames.map((f, i) => ({
    position: start + i,
    prompt: f.prompt,
    caption: f.caption,
    no_character: f.noCharacter,
    character_ids: f.characterNames ? f.characterNames.map((name) => idByName.get(name)!) : null,
  }));
  return session.rows(Frame,
    `INSERT INTO frames (project_id, story_id, position, prompt, caption, no_character, character_ids)
     SELECT $1, $2, f.position, f.prompt, f.caption, f.no_character, f.character_ids
     FROM jsonb_to_recordset($3::jsonb) AS f(position int, prompt text, caption text, no_character boolean, character_ids uuid[])
     ORDER BY f.position
     RETURNING *`,
    [session.projectId, storyId, JSON.stringify(records)]);
}
